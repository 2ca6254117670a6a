package coordinator_test

import (
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/auth/authtest"
	"github.com/tokenmill/tokenmill/internal/testcluster"
)

// TestConfig_Security: Validate refuses a certificate of another role, a gossip key of the
// wrong size, and tokens that would let a person pass for a worker.
func TestConfig_Security(t *testing.T) {
	pki := authtest.New(t, t.TempDir())
	tests := []struct {
		name    string
		set     func(c *testcluster.Security)
		wantErr string
	}{
		{"off", func(*testcluster.Security) {}, ""},
		{"a coordinator's certificate", func(c *testcluster.Security) { c.TLS = authtest.Load(t, pki.Coordinator) }, ""},
		{"a worker's certificate", func(c *testcluster.Security) { c.TLS = authtest.Load(t, pki.Worker) }, "a coordinator needs one whose Subject OU is tokenmill-coordinator"},
		{"a person's certificate", func(c *testcluster.Security) { c.TLS = authtest.Load(t, pki.Person) }, "is a person's"},
		{"a short gossip key", func(c *testcluster.Security) { c.GossipKey = make([]byte, 16) }, "gossip key of 16 bytes"},
		{"a person token without TLS or worker token", func(c *testcluster.Security) { c.PersonToken = []byte("p") }, "--worker-token-file"},
		{"the same token twice", func(c *testcluster.Security) { c.PersonToken, c.WorkerToken = []byte("p"), []byte("p") }, "must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testcluster.Security
			tt.set(&s)
			cfg := testcluster.Config("c1", t.TempDir(), nil)
			cfg.GossipKey, cfg.TLS, cfg.PersonToken, cfg.WorkerToken = s.GossipKey, s.TLS, s.PersonToken, s.WorkerToken
			err := cfg.Validate()
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}
