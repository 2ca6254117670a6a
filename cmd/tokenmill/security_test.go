package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/auth"
	"github.com/tokenmill/tokenmill/internal/auth/authtest"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// runBinaryEnv is runBinary with env added to the process's environment.
func runBinaryEnv(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	cmd := cliCommand(t, "", args...)
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	var ee *exec.ExitError
	if err := cmd.Run(); err != nil && !errors.As(err, &ee) {
		t.Fatalf("tokenmill %s: %v", strings.Join(args, " "), err)
	}
	return cliResult{Code: cmd.ProcessState.ExitCode(), Stdout: out.String(), Stderr: errb.String()}
}

func TestKeygen(t *testing.T) {
	r := runBinary(t, "", "", "keygen")
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.Stdout))
	if r.Code != 0 || err != nil || len(key) != 32 {
		t.Fatalf("keygen: exit %d, %q (%v): want base64 of 32 bytes", r.Code, r.Stdout, err)
	}
}

// TestCluster_Secured runs a coordinator and a worker as processes with every security
// flag on (gossip key, mutual TLS, a person's token, allowed roots). The CLI with a
// person's certificate and TOKENMILL_TOKEN (or --token-file) submits a job that runs to its
// end; without the token, without a certificate, or with a worker's certificate it is
// refused with a sentence saying why; a job outside the allowed roots is refused naming
// the path; the token appears in no log.
func TestCluster_Secured(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster of two processes")
	}
	dir := t.TempDir()
	pki := authtest.New(t, t.TempDir())
	token := "cli-secret-token-3b9e"
	tokenFile, keyFile := filepath.Join(dir, "token"), filepath.Join(dir, "gossip.key")
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	if r := runBinary(t, "", "", "keygen"); r.Code != 0 {
		t.Fatalf("keygen: %s", r.Stderr)
	} else {
		os.WriteFile(keyFile, []byte(r.Stdout), 0o600)
	}
	jobDir := filepath.Join(dir, "job")
	jobFile := writeClusterJob(t, jobDir)
	ports := freePorts(t, 5)
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	addr, gossip := "127.0.0.1:"+p(0), "127.0.0.1:"+p(2)
	tlsFlags := func(f auth.TLSFiles) []string {
		return []string{"--tls-cert", f.Cert, "--tls-key", f.Key, "--tls-ca", f.CA}
	}
	coord := startProc(t, append([]string{"coordinator", "--id", "c1", "--data-dir", filepath.Join(dir, "c1"), "--bind", "127.0.0.1",
		"--grpc-port", p(0), "--raft-port", p(1), "--gossip-port", p(2), "--bootstrap-expect", "1", "-v",
		"--gossip-key-file", keyFile, "--token-file", tokenFile, "--allowed-roots", jobDir}, tlsFlags(pki.Coordinator)...)...)
	work := startProc(t, append([]string{"worker", "--id", "w1", "--data-dir", filepath.Join(dir, "w1"), "--bind", "127.0.0.1",
		"--grpc-port", p(3), "--gossip-port", p(4), "--join", gossip, "--slots", "2", "-v",
		"--gossip-key-file", keyFile, "--allowed-roots", jobDir}, tlsFlags(pki.Worker)...)...)

	person := tlsFlags(pki.Person)
	withToken := []string{"TOKENMILL_TOKEN=" + token}
	testutil.WaitFor(t, clusterTimeout, func() (bool, error) {
		r := runBinaryEnv(t, withToken, append([]string{"members", "--addr", addr, "--json"}, person...)...)
		return r.Code == 0 && strings.Contains(r.Stdout, `"w1"`) && strings.Contains(r.Stdout, `"alive"`),
			fmt.Errorf("members: exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
	}, "the worker alive in members")

	r := runBinaryEnv(t, withToken, append([]string{"job", "submit", "--addr", addr, "--wait", jobFile}, person...)...)
	if r.Code != 0 {
		t.Fatalf("job submit --wait: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	outsideJob := filepath.Join(dir, "outside.yaml")
	os.WriteFile(outsideJob, []byte("name: outside\ninputs:\n  - path: "+jobDir+"/../token\ntokenizer: cl100k_base\noutput:\n  dir: "+jobDir+"/out2\n"), 0o644)
	tests := []struct {
		name string
		env  []string
		args []string
		says []string
	}{
		{"no token", nil, append([]string{"job", "list", "--addr", addr}, person...), []string{"TOKENMILL_TOKEN", "--token-file"}},
		{"a wrong token file", nil, append([]string{"job", "list", "--addr", addr, "--token-file", keyFile}, person...), []string{"not the coordinators'"}},
		{"no certificate", withToken, []string{"job", "list", "--addr", addr}, []string{"cannot reach a coordinator", "--tls-cert"}},
		{"a worker's certificate", withToken, append([]string{"job", "list", "--addr", addr}, tlsFlags(pki.Worker)...), []string{"worker's credential"}},
		{"outside the allowed roots", withToken, append([]string{"job", "submit", "--addr", addr, outsideJob}, person...), []string{jobDir + "/../token", "outside the allowed roots"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinaryEnv(t, tt.env, tt.args...)
			if r.Code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", r.Code, r.Stdout, r.Stderr)
			}
			for _, s := range tt.says {
				if !strings.Contains(r.Stderr, s) {
					t.Errorf("stderr does not say %q:\n%s", s, r.Stderr)
				}
			}
		})
	}
	if r := runBinary(t, "", "", append([]string{"job", "list", "--addr", addr, "--token-file", tokenFile}, person...)...); r.Code != 0 {
		t.Errorf("job list with --token-file: exit %d: %s", r.Code, r.Stderr)
	}
	tlsEnv := []string{"TOKENMILL_TLS_CERT=" + pki.Person.Cert, "TOKENMILL_TLS_KEY=" + pki.Person.Key, "TOKENMILL_TLS_CA=" + pki.Person.CA}
	if r := runBinaryEnv(t, append(tlsEnv, withToken...), "job", "list", "--addr", addr); r.Code != 0 {
		t.Errorf("job list with TOKENMILL_TLS_*: exit %d: %s", r.Code, r.Stderr)
	}
	coord.stop(t, os.Interrupt)
	work.stop(t, os.Interrupt)
	for name, log := range map[string]string{"coordinator": coord.errb.String(), "worker": work.errb.String()} {
		if strings.Contains(log, token) {
			t.Errorf("the %s's log holds the token", name)
		}
	}
}
