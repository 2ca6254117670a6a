package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// cmdHealth implements `tokenmill health`: asks a coordinator's or worker's /healthz and exits
// 0 when it answers 200, 1 otherwise, for container health checks in an image without a
// shell.
func cmdHealth(args []string, stdout, stderr io.Writer) int {
	c := newCommand("health", "--http HOST:PORT [--timeout DURATION]",
		"Check a coordinator's or worker's /healthz: exit 0 when it answers ok, 1 otherwise.",
		healthHelp, stdout, stderr)
	addr := c.fs.String("http", "", "the node's HTTP address `HOST:PORT` (its --http-port) (required)")
	timeout := c.fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if done, code := c.parse(args); done {
		return code
	}
	if ok, code := c.wantArgs(); !ok {
		return code
	}
	if *addr == "" {
		return c.usageError("missing --http HOST:PORT: the node's HTTP address")
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return c.usageError("--http %q: want HOST:PORT", *addr)
	}
	if *timeout <= 0 {
		return c.usageError("--timeout must be positive, got %v", *timeout)
	}
	body, err := healthz(*addr, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "tokenmill health: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, body)
	return 0
}

const healthHelp = `It prints the answer's body (one line of JSON: the node's id and state) on stdout. When the
node does not answer, or answers another status than 200 (a coordinator that knows no raft
leader, a worker that drains), it prints one line saying so on stderr and exits 1.
`

// healthz gets http://addr/healthz within timeout and returns its body, or an error saying
// why the node is not healthy.
func healthz(addr string, timeout time.Duration) (string, error) {
	url := "http://" + addr + "/healthz"
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("cannot reach %s: %s", url, cause(err, timeout))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	body := oneLineBody(string(b))
	if err != nil {
		return "", fmt.Errorf("%s: reading the answer: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered %s: %s", url, resp.Status, body)
	}
	return body, nil
}

// cause is the last link of a transport error that says what went wrong ("connection
// refused", "no such host"), without the method, URL and dial details that net/http and net
// put before it; the caller names the URL once itself.
func cause(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %v", timeout)
	}
	var sys *os.SyscallError
	if errors.As(err, &sys) {
		return sys.Err.Error()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Err
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err.Error()
	}
	return err.Error()
}

// oneLineBody is an answer's body on one line: its words joined by single spaces, cut at 200
// bytes.
func oneLineBody(b string) string {
	s := strings.Join(strings.Fields(b), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
