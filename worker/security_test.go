package worker_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/auth"
	"github.com/tokenmill/tokenmill/internal/auth/authtest"
	"github.com/tokenmill/tokenmill/internal/members"
	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/worker"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// logBuffer collects the logs of the nodes, safe for their goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// dialWith returns a connection to addr with opts, closed at the test's end.
func dialWith(t *testing.T, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// refusal is a call that a secured coordinator must refuse with code, its message holding
// each of says.
type refusal struct {
	name string
	conn *grpc.ClientConn
	call func(context.Context, *grpc.ClientConn) error
	code codes.Code
	says []string
}

func submitCall(spec string) func(context.Context, *grpc.ClientConn) error {
	return func(ctx context.Context, cc *grpc.ClientConn) error {
		_, err := pb.NewJobServiceClient(cc).Submit(ctx, &pb.SubmitRequest{Spec: []byte(spec)})
		return err
	}
}

func listCall(ctx context.Context, cc *grpc.ClientConn) error {
	_, err := pb.NewJobServiceClient(cc).List(ctx, &pb.ListRequest{})
	return err
}

func cancelCall(ctx context.Context, cc *grpc.ClientConn) error {
	_, err := pb.NewJobServiceClient(cc).Cancel(ctx, &pb.CancelRequest{JobId: "nojob"})
	return err
}

func removePeerCall(ctx context.Context, cc *grpc.ClientConn) error {
	_, err := pb.NewClusterServiceClient(cc).RemovePeer(ctx, &pb.RemovePeerRequest{Id: "c9"})
	return err
}

func heartbeatCall(ctx context.Context, cc *grpc.ClientConn) error {
	_, err := pb.NewWorkerServiceClient(cc).Heartbeat(ctx, &pb.HeartbeatRequest{WorkerId: "intruder"})
	return err
}

func checkRefusals(t *testing.T, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := tt.call(ctx, tt.conn)
			t.Logf("%s: %v", tt.name, err)
			if status.Code(err) != tt.code {
				t.Fatalf("got %v, want code %s", err, tt.code)
			}
			for _, s := range tt.says {
				if !strings.Contains(status.Convert(err).Message(), s) {
					t.Errorf("message %q does not say %q", status.Convert(err).Message(), s)
				}
			}
		})
	}
}

// TestSecurity_MutualTLS runs three coordinators with TLS on gRPC and raft and a worker
// with a worker's certificate: the cluster elects a leader, a person's call through a
// follower (forwarded to the leader) runs a job to the output `tokenmill run` publishes.
// Callers without a certificate, or with one of another CA, fail at the handshake; a
// worker's certificate cannot call the JobService, a person's or a coordinator's cannot
// call the WorkerService; the raft port refuses a certificate that is not a
// coordinator's.
func TestSecurity_MutualTLS(t *testing.T) {
	dir := t.TempDir()
	pki := authtest.New(t, t.TempDir())
	c := testcluster.NewSecure(t, 3, testcluster.Security{TLS: authtest.Load(t, pki.Coordinator)})
	person := authtest.Load(t, pki.Person)
	c.SetDial(auth.DialOptions(person, nil)...)
	c.AddWorker(func(cfg *worker.Config) { cfg.TLS = authtest.Load(t, pki.Worker) })

	writeCorpus(t, dir, 2, 300, false)
	spec := pretrainSpec(dir, "tls")
	want := reference(t, spec)
	follower := c.Followers()[0]
	id := submit(t, c, follower, spec)
	waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)
	sameTree(t, hashTree(t, filepath.Join(dir, "out")), want)

	addr := c.Node(follower).Addrs().GRPC
	cas := x509.NewCertPool()
	ca, err := os.ReadFile(pki.CA)
	if err != nil {
		t.Fatal(err)
	}
	cas.AppendCertsFromPEM(ca)
	noCert := credentials.NewTLS(&tls.Config{RootCAs: cas, ServerName: auth.ServerName})
	stranger, err := tls.LoadX509KeyPair(pki.Stranger.Cert, pki.Stranger.Key)
	if err != nil {
		t.Fatal(err)
	}
	strangerCreds := credentials.NewTLS(&tls.Config{RootCAs: cas, ServerName: auth.ServerName, Certificates: []tls.Certificate{stranger}})
	checkRefusals(t, []refusal{
		{"plain TCP", dialWith(t, addr, grpc.WithTransportCredentials(insecure.NewCredentials())), listCall, codes.Unavailable, nil},
		{"no client certificate", dialWith(t, addr, grpc.WithTransportCredentials(noCert)), listCall, codes.Unavailable, nil},
		{"a certificate of another CA", dialWith(t, addr, grpc.WithTransportCredentials(strangerCreds)), listCall, codes.Unavailable, nil},
		{"a worker submits", dialWith(t, addr, auth.DialOptions(authtest.Load(t, pki.Worker), nil)...), submitCall(spec),
			codes.PermissionDenied, []string{"worker", "JobService.Submit"}},
		{"a person heartbeats", dialWith(t, addr, auth.DialOptions(person, nil)...), heartbeatCall,
			codes.PermissionDenied, []string{"WorkerService.Heartbeat is for workers"}},
		{"a coordinator heartbeats", dialWith(t, addr, auth.DialOptions(authtest.Load(t, pki.Coordinator), nil)...), heartbeatCall,
			codes.PermissionDenied, []string{"for workers"}},
	})

	// The raft port: a person's certificate, or none, does not complete a handshake.
	raftAddr := c.Node(follower).Addrs().Raft
	personPair, err := tls.LoadX509KeyPair(pki.Person.Cert, pki.Person.Key)
	if err != nil {
		t.Fatal(err)
	}
	for name, certs := range map[string][]tls.Certificate{"no certificate": nil, "a person's certificate": {personPair}} {
		t.Run("raft with "+name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", raftAddr, &tls.Config{RootCAs: cas, ServerName: auth.ServerName, Certificates: certs})
			if err == nil {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				_, err = conn.Read(make([]byte, 1)) // TLS 1.3: the server's refusal comes after the client's handshake
			}
			if err == nil || !strings.Contains(err.Error(), "tls") {
				t.Fatalf("raft port with %s: got %v, want a TLS error", name, err)
			}
		})
	}
}

// TestSecurity_Tokens runs three coordinators with a person's token and a worker's token
// (no TLS) and a worker with the worker's token: a job submitted with the person's token
// through a follower succeeds. Calls without a token, with a wrong one, or with the other
// role's token are refused with Unauthenticated or PermissionDenied and a sentence naming
// the flag or variable; neither token appears in any node's logs.
func TestSecurity_Tokens(t *testing.T) {
	dir := t.TempDir()
	personToken, workerToken := []byte("person-secret-5f2c9a"), []byte("worker-secret-81d3e7")
	logs := &logBuffer{}
	c := testcluster.NewSecure(t, 3, testcluster.Security{PersonToken: personToken, WorkerToken: workerToken, Logger: logs.logger()})
	c.SetDial(auth.DialOptions(nil, personToken)...)
	c.AddWorker(func(cfg *worker.Config) { cfg.WorkerToken, cfg.Logger = workerToken, logs.logger() })

	writeCorpus(t, dir, 2, 300, false)
	spec := pretrainSpec(dir, "tokens")
	follower := c.Followers()[0]
	id := submit(t, c, follower, spec)
	waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)

	addr := c.Node(follower).Addrs().GRPC
	plain := dialWith(t, addr, auth.DialOptions(nil, nil)...)
	wrong := dialWith(t, addr, auth.DialOptions(nil, []byte("guessed"))...)
	asWorker := dialWith(t, addr, auth.DialOptions(nil, workerToken)...)
	asPerson := dialWith(t, addr, auth.DialOptions(nil, personToken)...)
	checkRefusals(t, []refusal{
		{"submit without a token", plain, submitCall(spec), codes.Unauthenticated, []string{"TOKENMILL_TOKEN", "--token-file"}},
		{"cancel without a token", plain, cancelCall, codes.Unauthenticated, []string{"TOKENMILL_TOKEN", "--token-file"}},
		{"operator call without a token", plain, removePeerCall, codes.Unauthenticated, []string{"TOKENMILL_TOKEN", "--token-file"}},
		{"submit with a wrong token", wrong, submitCall(spec), codes.Unauthenticated, []string{"not the coordinators'", "--token-file"}},
		{"a worker's token submits", asWorker, submitCall(spec), codes.PermissionDenied, []string{"worker's credential"}},
		{"a person's token heartbeats", asPerson, heartbeatCall, codes.PermissionDenied, []string{"for workers"}},
		{"heartbeat without a token", plain, heartbeatCall, codes.Unauthenticated, []string{"--worker-token-file"}},
	})
	if err := listCall(context.Background(), asPerson); err != nil {
		t.Errorf("list with the person's token: %v", err)
	}
	for _, tok := range [][]byte{personToken, workerToken} {
		if strings.Contains(logs.String(), string(tok)) {
			t.Errorf("the logs hold the token %q", tok)
		}
	}
	if !strings.Contains(logs.String(), "job submitted") {
		t.Errorf("the logs were not captured:\n%s", logs)
	}
}

// TestSecurity_GossipKey: a worker with the cluster's gossip key joins; one without a key
// or with another key does not, and its log says the keys differ.
func TestSecurity_GossipKey(t *testing.T) {
	key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	c := testcluster.NewSecure(t, 1, testcluster.Security{GossipKey: key})
	tests := []struct {
		name  string
		key   []byte
		joins bool
	}{
		{"the cluster's key", key, true},
		{"no key", nil, false},
		{"another key", other, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logBuffer{}
			c.AddWorker(func(cfg *worker.Config) { cfg.GossipKey, cfg.Logger = tt.key, logs.logger() })
			name := fmt.Sprintf("w%d", i+1)
			if tt.joins {
				testcluster.WaitFor(t, testcluster.Timeout, name+" alive on the coordinator", func() error { return aliveOn(c, name) })
				return
			}
			testcluster.WaitFor(t, testcluster.Timeout, "the worker to log why it cannot join", func() error {
				if !strings.Contains(logs.String(), "the gossip keys differ") {
					return fmt.Errorf("log: %s", logs)
				}
				return nil
			})
			if aliveOn(c, name) == nil {
				t.Fatalf("%s joined without the cluster's key", name)
			}
		})
	}
}

// aliveOn returns nil when the worker is alive in the first coordinator's members.
func aliveOn(c *testcluster.Cluster, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := c.Cluster(0).Members(ctx, &pb.MembersRequest{})
	if err != nil {
		return err
	}
	for _, m := range r.Members {
		if m.Id == name && m.State == string(members.StateAlive) {
			return nil
		}
	}
	return fmt.Errorf("%s is not alive in %v", name, r.Members)
}

// TestSecurity_AllowedRoots: with --allowed-roots on the coordinator and the worker, a job
// whose inputs, output or tokenizer file resolve outside the roots (by "..", an absolute
// path, a symlink pointing out, a tokenizer directory whose tokenizer.json points out) is
// refused at submission with the path; an input or tokenizer swapped for a symlink out
// after submission is caught by the worker before it opens the file, and the job fails
// naming it; a job inside the roots runs.
func TestSecurity_AllowedRoots(t *testing.T) {
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	writeCorpus(t, root, 2, 200, false)
	writeCorpus(t, outside, 1, 50, false)
	if err := os.Symlink(filepath.Join(outside, "in"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	roots, err := auth.NewRoots([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	c := testcluster.NewSecure(t, 1, testcluster.Security{AllowedRoots: roots})
	jobTok := func(name, input, out, tok string) string {
		return fmt.Sprintf("name: %s\ninputs:\n  - path: %s\ntokenizer: %s\nsequence_lengths: [16]\noutput:\n  dir: %s\n", name, input, tok, out)
	}
	job := func(name, input, out string) string { return jobTok(name, input, out, "cl100k_base") }
	// A tokenizer directory inside the root whose tokenizer.json points out of it.
	if err := os.WriteFile(filepath.Join(outside, "tokenizer.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "tokdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "tokenizer.json"), filepath.Join(root, "tokdir", "tokenizer.json")); err != nil {
		t.Fatal(err)
	}
	conn := c.Conn(0)
	checkRefusals(t, []refusal{
		{"dot-dot out of the root", conn, submitCall(job("dotdot", root+"/../outside/in/*.jsonl", root+"/out1")),
			codes.PermissionDenied, []string{"inputs[0].path", root + "/../outside/in/*.jsonl", "outside the allowed roots"}},
		{"an absolute path elsewhere", conn, submitCall(job("abs", outside+"/in/part-00.jsonl", root+"/out2")),
			codes.PermissionDenied, []string{outside + "/in/part-00.jsonl", "outside the allowed roots"}},
		{"a symlink pointing out", conn, submitCall(job("link", root+"/link/*.jsonl", root+"/out3")),
			codes.PermissionDenied, []string{root + "/link/*.jsonl", "resolves to " + outside + "/in/*.jsonl"}},
		{"the output outside", conn, submitCall(job("outdir", root+"/in/*.jsonl", outside+"/out")),
			codes.PermissionDenied, []string{"output.dir", outside + "/out"}},
		{"a tokenizer file by dot-dot", conn, submitCall(jobTok("tokdotdot", root+"/in/*.jsonl", root+"/out4", root+"/../outside/tokenizer.json")),
			codes.PermissionDenied, []string{"tokenizer", root + "/../outside/tokenizer.json", "outside the allowed roots"}},
		{"a tokenizer file elsewhere", conn, submitCall(jobTok("tokabs", root+"/in/*.jsonl", root+"/out5", outside+"/r.tiktoken:cl100k_base")),
			codes.PermissionDenied, []string{"tokenizer", outside + "/r.tiktoken", "outside the allowed roots"}},
		{"a tokenizer through a symlink pointing out", conn, submitCall(jobTok("toklink", root+"/in/*.jsonl", root+"/out6", root+"/link/tokenizer.json")),
			codes.PermissionDenied, []string{"tokenizer", "resolves to " + outside + "/in/tokenizer.json"}},
		{"a tokenizer directory whose tokenizer.json points out", conn, submitCall(jobTok("tokdir", root+"/in/*.jsonl", root+"/out7", root+"/tokdir")),
			codes.PermissionDenied, []string{"tokenizer", root + "/tokdir/tokenizer.json", "resolves to " + outside + "/tokenizer.json"}},
	})

	// Submitted while no worker runs; then the input becomes a symlink out of the root.
	swapped := filepath.Join(root, "swap", "a.jsonl")
	os.MkdirAll(filepath.Dir(swapped), 0o755)
	data, err := os.ReadFile(filepath.Join(root, "in", "part-00.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(swapped, data, 0o644); err != nil {
		t.Fatal(err)
	}
	swapID := submit(t, c, 0, job("swap", swapped, root+"/out-swap"))
	if err := os.Remove(swapped); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "in", "part-00.jsonl"), swapped); err != nil {
		t.Fatal(err)
	}
	// The same with the tokenizer: a rank file inside the root at submission, then a
	// symlink to a file outside.
	tok := filepath.Join(root, "tok", "r.tiktoken")
	os.MkdirAll(filepath.Dir(tok), 0o755)
	if err := os.WriteFile(tok, []byte("not read\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tokID := submit(t, c, 0, jobTok("swaptok", root+"/in/*.jsonl", root+"/out-swaptok", tok+":cl100k_base"))
	if err := os.Remove(tok); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "tokenizer.json"), tok); err != nil {
		t.Fatal(err)
	}
	inside := submit(t, c, 0, job("inside", root+"/in/*.jsonl", root+"/out"))

	c.AddWorker(func(cfg *worker.Config) { cfg.AllowedRoots = roots })
	st := waitState(t, c, swapID, pb.JobState_JOB_STATE_FAILED)
	t.Logf("the swapped job failed: %s", st.Error)
	for _, s := range []string{swapped, "outside the allowed roots"} {
		if !strings.Contains(st.Error, s) {
			t.Errorf("the swapped job's error %q does not say %q", st.Error, s)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "out-swap")); !os.IsNotExist(err) {
		t.Errorf("the swapped job left an output: %v", err)
	}
	st = waitState(t, c, tokID, pb.JobState_JOB_STATE_FAILED)
	t.Logf("the job whose tokenizer was swapped failed: %s", st.Error)
	for _, s := range []string{"tokenizer " + tok, "resolves to " + outside + "/tokenizer.json", "outside the allowed roots"} {
		if !strings.Contains(st.Error, s) {
			t.Errorf("the tokenizer-swapped job's error %q does not say %q", st.Error, s)
		}
	}
	waitState(t, c, inside, pb.JobState_JOB_STATE_SUCCEEDED)
}

// TestConfig_Security: a worker's Validate refuses a certificate of another role and a
// gossip key of the wrong size.
func TestConfig_Security(t *testing.T) {
	pki := authtest.New(t, t.TempDir())
	tests := []struct {
		name    string
		set     func(*worker.Config)
		wantErr string
	}{
		{"a worker's certificate", func(c *worker.Config) { c.TLS = authtest.Load(t, pki.Worker) }, ""},
		{"a coordinator's certificate", func(c *worker.Config) { c.TLS = authtest.Load(t, pki.Coordinator) }, "a worker needs one whose Subject OU is tokenmill-worker"},
		{"a short gossip key", func(c *worker.Config) { c.GossipKey = make([]byte, 31) }, "gossip key of 31 bytes"},
	}
	for _, tt := range tests {
		cfg := testcluster.WorkerConfig("w1", []string{"127.0.0.1:1"})
		tt.set(&cfg)
		err := cfg.Validate()
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
