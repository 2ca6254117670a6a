package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/client"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// refusedAddr returns a loopback address where nothing listens.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Every flag may come from TOKENMILL_ + its name; the command line wins, an empty variable
// counts as unset, a bad value is a usage error naming the variable, and --help lists the
// variables.
func TestEnv_SetsFlags(t *testing.T) {
	dead := refusedAddr(t)
	other := refusedAddr(t)
	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stdout string // in stdout
		stderr string // in stderr
	}{
		{"flag from its variable", []string{"TOKENMILL_HTTP=" + dead}, []string{"health"}, 1, "",
			"tokenmill health: cannot reach http://" + dead + "/healthz: connection refused\n"},
		{"the command line wins", []string{"TOKENMILL_HTTP=" + dead}, []string{"health", "--http", other}, 1, "",
			"cannot reach http://" + other + "/healthz"},
		{"empty counts as unset", []string{"TOKENMILL_HTTP="}, []string{"health"}, 2, "",
			"tokenmill health: missing --http HOST:PORT"},
		{"a bad value", []string{"TOKENMILL_HTTP=" + dead, "TOKENMILL_TIMEOUT=soon"}, []string{"health"}, 2, "",
			`tokenmill health: TOKENMILL_TIMEOUT=soon: invalid value for --timeout: parse error`},
		{"a hyphenated flag", []string{"TOKENMILL_BOOTSTRAP_EXPECT=-2"}, []string{"coordinator", "--id", "c1", "--data-dir", t.TempDir(), "--bind", "127.0.0.1"}, 2, "",
			"tokenmill coordinator: --bootstrap-expect must be 0 or more, got -2"},
		{"a bool flag", []string{"TOKENMILL_JSON=yes"}, []string{"members", "--addr", dead}, 2, "",
			"TOKENMILL_JSON=yes: invalid value for --json: parse error"},
		{"addr", []string{"TOKENMILL_ADDR=" + dead}, []string{"members"}, 1, "",
			"cannot reach a coordinator at " + dead},
		{"help lists the variables", nil, []string{"coordinator", "--help"}, 0,
			"TOKENMILL_BOOTSTRAP_EXPECT", ""},
		{"help of health", nil, []string{"health", "--help"}, 0, "  TOKENMILL_HTTP TOKENMILL_TIMEOUT\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinaryEnv(t, tt.env, tt.args...)
			if r.Code != tt.code || !strings.Contains(r.Stdout, tt.stdout) || !strings.Contains(r.Stderr, tt.stderr) {
				t.Errorf("tokenmill %s with %v: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q",
					strings.Join(tt.args, " "), tt.env, r.Code, r.Stdout, r.Stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestHealth_Answers: tokenmill health exits 0 with the body of a 200, 1 with one line for
// any other status.
func TestHealth_Answers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"id":"c1","leader":"c2"}`)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	draining := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "{\"id\": \"w1\",\n \"draining\": true}\n")
	})}
	go draining.Serve(down)
	t.Cleanup(func() { draining.Close() })

	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"ok", []string{"health", "--http", ln.Addr().String()}, 0, "{\"id\":\"c1\",\"leader\":\"c2\"}\n", ""},
		{"503", []string{"health", "--http", down.Addr().String()}, 1, "",
			"tokenmill health: http://" + down.Addr().String() + "/healthz answered 503 Service Unavailable: {\"id\": \"w1\", \"draining\": true}\n"},
		{"not host:port", []string{"health", "--http", "localhost"}, 2, "", "tokenmill health: --http \"localhost\": want HOST:PORT\n"},
		{"an argument", []string{"health", "--http", ln.Addr().String(), "more"}, 2, "", "tokenmill health: unexpected argument \"more\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinary(t, "", "", tt.args...)
			if r.Code != tt.code || r.Stdout != tt.stdout && tt.stdout != "" || !strings.HasPrefix(r.Stderr, tt.stderr) {
				t.Errorf("tokenmill %s: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr %q",
					strings.Join(tt.args, " "), r.Code, r.Stdout, r.Stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestCluster_FromEnvironmentOnEveryInterface starts a coordinator configured only by
// environment variables, bound to 0.0.0.0 and advertising loopback, with no --id (so its id
// is the host name), and a worker that joins through a comma-separated TOKENMILL_JOIN whose
// first address is dead. Members and list-peers show the advertised addresses, and
// tokenmill health answers 0 for both once the coordinator leads.
func TestCluster_FromEnvironmentOnEveryInterface(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster")
	}
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no host name:", err)
	}
	dir := t.TempDir()
	ports := freePorts(t, 6)
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	startProcEnv(t, []string{"TOKENMILL_DATA_DIR=" + filepath.Join(dir, "c"), "TOKENMILL_BIND=0.0.0.0",
		"TOKENMILL_ADVERTISE=127.0.0.1", "TOKENMILL_GRPC_PORT=" + p(0), "TOKENMILL_RAFT_PORT=" + p(1),
		"TOKENMILL_GOSSIP_PORT=" + p(2), "TOKENMILL_HTTP_PORT=" + p(3), "TOKENMILL_BOOTSTRAP_EXPECT=1"}, "coordinator")
	startProcEnv(t, []string{"TOKENMILL_DATA_DIR=" + filepath.Join(dir, "w"), "TOKENMILL_BIND=0.0.0.0",
		"TOKENMILL_ADVERTISE=127.0.0.1", "TOKENMILL_GOSSIP_PORT=" + p(4), "TOKENMILL_GRPC_PORT=" + p(5),
		"TOKENMILL_HTTP_PORT=0", "TOKENMILL_JOIN=" + refusedAddr(t) + ",127.0.0.1:" + p(2), "TOKENMILL_ID=w1",
		"TOKENMILL_SLOTS=1"}, "worker")
	addr := "127.0.0.1:" + p(0)
	testutil.WaitFor(t, clusterTimeout, func() (bool, error) {
		var v struct{ Members []client.Member }
		if err := clusterJSON(t, &v, "members", "--addr", addr); err != nil {
			return false, err
		}
		want := map[string]string{host: "127.0.0.1:" + p(0), "w1": "127.0.0.1:" + p(5)}
		for _, m := range v.Members {
			if m.State == "alive" && want[m.ID] == m.Address {
				delete(want, m.ID)
			}
		}
		return len(want) == 0, fmt.Errorf("members %+v; still missing %v", v.Members, want)
	}, "the coordinator (named after the host) and w1 alive at their advertised addresses")
	var peers struct{ Peers []client.Peer }
	if err := clusterJSON(t, &peers, "operator", "raft", "list-peers", "--addr", addr); err != nil {
		t.Fatal(err)
	}
	if len(peers.Peers) != 1 || peers.Peers[0].ID != host || peers.Peers[0].Address != "127.0.0.1:"+p(1) {
		t.Errorf("list-peers: %+v; want %s at 127.0.0.1:%s", peers.Peers, host, p(1))
	}
	testutil.WaitFor(t, clusterTimeout, func() (bool, error) {
		r := runBinary(t, "", "", "health", "--http", "127.0.0.1:"+p(3), "--timeout", "2s")
		return r.Code == 0 && strings.Contains(r.Stdout, `"leader":"`+host+`"`), fmt.Errorf("exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
	}, "tokenmill health of the coordinator to exit 0")
}
