package client

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// explain turns an error of a call into one sentence: the coordinator's own message for a
// refusal (it is written for people), what went wrong with the connection otherwise; what
// says which call it was when the message alone would not.
func (c *Client) explain(err error, what string) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", what, err)
	}
	msg := strings.TrimSpace(st.Message())
	for {
		rest, ok := strings.CutPrefix(msg, "coordinator: ")
		if !ok {
			break
		}
		msg = rest
	}
	switch st.Code() {
	case codes.Unavailable:
		if reason, ok := transportReason(msg); ok {
			if strings.Contains(msg, "server preface") {
				reason += " (the coordinator closed the connection: if it uses TLS, pass --tls-cert, --tls-key and --tls-ca)"
			}
			return fmt.Errorf("cannot reach a coordinator at %s: %s", c.addr, reason)
		}
		return fmt.Errorf("%s: the coordinator at %s is unavailable: %s", what, c.addr, msg)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: the coordinator at %s did not answer in time", what, c.addr)
	case codes.Canceled:
		return fmt.Errorf("%s: %w", what, errors.New("canceled"))
	case codes.Unimplemented:
		return fmt.Errorf("%s: %s does not serve the cluster's API (is it a tokenmill coordinator of this version?)", what, c.addr)
	case codes.Internal, codes.Unknown:
		return fmt.Errorf("%s: the coordinator at %s failed: %s", what, c.addr, msg)
	}
	return errors.New(msg)
}

// transportReason extracts the cause of a failed connection from gRPC's message
// (`connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect:
// connection refused"`): "connection refused".
func transportReason(msg string) (string, bool) {
	if !strings.Contains(msg, "connection error") && !strings.Contains(msg, "transport") &&
		!strings.Contains(msg, "name resolver") && !strings.Contains(msg, "dial") {
		return "", false
	}
	msg = strings.TrimRight(msg, `"`)
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg, true
}
