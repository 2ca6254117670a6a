package coordinator

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/raft"
	"github.com/tokenmill/tokenmill/internal/auth"
	"github.com/tokenmill/tokenmill/job"
)

// policy returns who may call the node's gRPC server (the table is auth's).
func (c *Config) policy() *auth.Policy {
	return &auth.Policy{TLS: c.TLS != nil, PersonToken: c.PersonToken, WorkerToken: c.WorkerToken}
}

// tlsStreamLayer is raft's transport over mutual TLS: both ends present a coordinator's
// certificate signed by the CA, or the handshake fails.
type tlsStreamLayer struct {
	net.Listener
	client    *tls.Config
	advertise net.Addr // nil: the listener's address
}

// Addr is the address raft advertises: the advertise address, or the listener's.
func (s *tlsStreamLayer) Addr() net.Addr {
	if s.advertise != nil {
		return s.advertise
	}
	return s.Listener.Addr()
}

// newTLSStreamLayer listens on bind with t's peer configuration.
func newTLSStreamLayer(bind string, advertise net.Addr, t *auth.TLS) (*tlsStreamLayer, error) {
	ln, err := tls.Listen("tcp", bind, t.PeerServerConfig())
	if err != nil {
		return nil, err
	}
	return &tlsStreamLayer{Listener: ln, client: t.ClientConfig(), advertise: advertise}, nil
}

// Dial connects to a peer's raft transport and completes the handshake within timeout.
func (s *tlsStreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	conn, err := tls.DialWithDialer(d, "tcp", string(address), s.client)
	if err != nil {
		return nil, fmt.Errorf("raft over TLS to %s: %w", address, err)
	}
	return conn, nil
}

// checkRoots refuses a job whose inputs, output or tokenizer files resolve outside the allowed roots,
// naming the path.
func checkRoots(r auth.Roots, spec *job.Spec) error {
	if !r.Enabled() {
		return nil
	}
	for i, in := range spec.Inputs {
		if err := r.Check(in.Path); err != nil {
			return fmt.Errorf("%w: inputs[%d].path %w", ErrPermission, i, err)
		}
	}
	if err := r.Check(spec.Output.Dir); err != nil {
		return fmt.Errorf("%w: output.dir %w", ErrPermission, err)
	}
	for _, p := range spec.TokenizerPaths() {
		if err := r.Check(p); err != nil {
			return fmt.Errorf("%w: tokenizer %w", ErrPermission, err)
		}
	}
	return nil
}
