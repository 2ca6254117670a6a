package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/client"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// clusterTimeout bounds each wait for the cluster's processes to reach a state.
const clusterTimeout = 60 * time.Second

// proc is a tokenmill process running in the background (a coordinator, a worker, dev).
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer // stdout
	errb *syncBuffer // stderr
	done chan struct{}
}

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProc starts `tokenmill ARGS...`; cleanup kills it if it still runs.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, nil, args...)
}

// startProcEnv starts `tokenmill ARGS...` with env (NAME=VALUE) added to the environment;
// cleanup kills it if it still runs.
func startProcEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: cliCommand(t, "", args...), out: &syncBuffer{}, errb: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errb
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("tokenmill %s:\nstdout:\n%s\nstderr (end):\n%s", strings.Join(args, " "), p.out, tail(p.errb.String(), 3000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stop sends sig and returns the exit status, failing the test if the process does not end.
func (p *proc) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(clusterTimeout):
		t.Fatalf("the process did not end within %v of %s", clusterTimeout, sig)
	}
	return p.cmd.ProcessState.ExitCode()
}

// freePorts returns n ports free on loopback for TCP and UDP (gossip takes both), by
// listening on port 0 and closing.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for len(ports) < n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, ln)
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // the UDP port is taken: keep the TCP one held, try another
		}
		held = append(held, pc)
		ports = append(ports, port)
	}
	return ports
}

// clusterJSON runs a read command of the CLI with --json and decodes its output into v.
func clusterJSON(t *testing.T, v any, args ...string) error {
	t.Helper()
	r := runBinary(t, "", "", append(args, "--json")...)
	if r.Code != 0 {
		return fmt.Errorf("tokenmill %s: exit %d: %s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return json.Unmarshal([]byte(r.Stdout), v)
}

// writeClusterJob writes a pretraining job file with relative paths over a copy of the demo
// corpus, planned as several shards.
func writeClusterJob(t *testing.T, dir string) string {
	t.Helper()
	crashCorpus(t, dir, 1)
	job := filepath.Join(dir, "job.yaml")
	os.WriteFile(job, []byte(`name: clustercli
inputs:
  - path: in/*.jsonl
tokenizer: cl100k_base
sequence_lengths: [128, 512]
shard_size: 256KiB
val_fraction: 0.05
output:
  dir: out
  formats: [hf, npy]
  dtype: int32
`), 0o644)
	return job
}

// TestCluster_ThreeCoordinatorsTwoWorkers runs a real cluster of tokenmill processes on
// loopback: 3 coordinators and 2 workers. A job submitted with `job submit --wait` publishes
// what `tokenmill run --workers 1` publishes, byte for byte (run.json aside); job list, job
// status, members and list-peers say what the cluster is; a worker stopped by SIGTERM
// drains, exits 0 and leaves the members.
func TestCluster_ThreeCoordinatorsTwoWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster of five processes")
	}
	dir := t.TempDir()
	ports := freePorts(t, 3*3+2*3)
	next := func() string {
		p := ports[0]
		ports = ports[1:]
		return strconv.Itoa(p)
	}
	var grpcAddrs []string
	firstGossip := ""
	for i := 1; i <= 3; i++ {
		grpc, raft, gossip := next(), next(), next()
		args := []string{"coordinator", "--id", fmt.Sprintf("c%d", i), "--data-dir", filepath.Join(dir, fmt.Sprintf("c%d", i)),
			"--bind", "127.0.0.1", "--grpc-port", grpc, "--raft-port", raft, "--gossip-port", gossip, "--bootstrap-expect", "3"}
		if i == 1 {
			firstGossip = "127.0.0.1:" + gossip
		} else {
			args = append(args, "--join", firstGossip)
		}
		startProc(t, args...)
		grpcAddrs = append(grpcAddrs, "127.0.0.1:"+grpc)
	}
	testutil.WaitFor(t, clusterTimeout, func() (bool, error) {
		var v struct{ Peers []client.Peer }
		if err := clusterJSON(t, &v, "operator", "raft", "list-peers", "--addr", grpcAddrs[1]); err != nil {
			return false, err
		}
		leaders, voters := 0, 0
		for _, p := range v.Peers {
			if p.State == "leader" {
				leaders++
			}
			if p.Voter {
				voters++
			}
		}
		return leaders == 1 && voters == 3, fmt.Errorf("peers %+v", v.Peers)
	}, "one leader and 3 voters in list-peers")

	var workers []*proc
	httpAddr := ""
	for i := 1; i <= 2; i++ {
		grpc, gossip, httpPort := next(), next(), next()
		workers = append(workers, startProc(t, "worker", "--id", fmt.Sprintf("w%d", i), "--data-dir", filepath.Join(dir, fmt.Sprintf("w%d", i)),
			"--bind", "127.0.0.1", "--grpc-port", grpc, "--gossip-port", gossip, "--join", firstGossip,
			"--slots", "2", "--tag", "zone=z"+strconv.Itoa(i), "--http-port", httpPort, "--drain-timeout", "30s"))
		if i == 1 {
			httpAddr = "127.0.0.1:" + httpPort
		}
	}
	alive := func() (map[string]client.Member, error) {
		var v struct{ Members []client.Member }
		if err := clusterJSON(t, &v, "members", "--addr", grpcAddrs[2]); err != nil {
			return nil, err
		}
		out := map[string]client.Member{}
		for _, m := range v.Members {
			if m.State == "alive" {
				out[m.ID] = m
			}
		}
		return out, nil
	}
	testutil.WaitFor(t, clusterTimeout, func() (bool, error) {
		ms, err := alive()
		roles := map[string]int{}
		for _, m := range ms {
			roles[m.Role]++
		}
		return err == nil && roles["coordinator"] == 3 && roles["worker"] == 2, fmt.Errorf("alive: %v (%v)", ms, err)
	}, "3 coordinators and 2 workers alive in members")
	if ms, _ := alive(); ms["w1"].Slots != 2 || ms["w1"].Tags["zone"] != "z1" {
		t.Errorf("members: w1 is %+v, want 2 slots and tag zone=z1", ms["w1"])
	}

	jobDir := filepath.Join(dir, "job")
	jobFile := writeClusterJob(t, jobDir)
	out := filepath.Join(jobDir, "out")
	if r := runBinary(t, jobDir, "", "run", "--workers", "1", "--progress", "none", "job.yaml"); r.Code != 0 {
		t.Fatalf("tokenmill run: exit %d: %s", r.Code, r.Stderr)
	}
	want := testutil.ReadTree(t, out, "run.json")
	os.RemoveAll(out)

	// Submitted from another directory through a follower: the job's relative paths are
	// the job file's.
	r := runBinary(t, dir, "", "job", "submit", "--addr", grpcAddrs[1], jobFile, "--wait")
	if r.Code != 0 {
		t.Fatalf("job submit --wait: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	id, _, _ := strings.Cut(r.Stdout, "\n")
	for _, s := range []string{"documents", "tokens", "train 128", "output: " + out} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("job submit --wait printed no %q:\n%s", s, r.Stdout)
		}
	}
	if !strings.Contains(r.Stderr, "tokenmill: job "+id+": succeeded:") {
		t.Errorf("job submit --wait printed no final progress line on stderr:\n%s", r.Stderr)
	}
	testutil.SameTree(t, "the cluster's output against tokenmill run's", want, testutil.ReadTree(t, out, "run.json"))

	var st client.Job
	if err := clusterJSON(t, &st, "job", "status", "--addr", grpcAddrs[2], id); err != nil {
		t.Fatal(err)
	}
	if st.ID != id || st.State != "succeeded" || st.Shards < 3 || st.ShardsDone != st.Shards || st.Progress.Tokens == 0 || st.Result == nil {
		t.Errorf("job status --json: %+v; want succeeded with several shards, all done, tokens counted", st)
	}
	var list struct{ Jobs []client.Job }
	if err := clusterJSON(t, &list, "job", "list", "--addr", grpcAddrs[0]); err != nil {
		t.Fatal(err)
	}
	if len(list.Jobs) != 1 || list.Jobs[0].ID != id || list.Jobs[0].State != "succeeded" {
		t.Errorf("job list --json: %+v", list.Jobs)
	}
	if r := runBinary(t, "", "", "job", "status", "--addr", grpcAddrs[0], id); r.Code != 0 || !strings.Contains(r.Stdout, "shards     "+fmt.Sprint(st.Shards)+"/") && !strings.Contains(r.Stdout, fmt.Sprintf("%d/%d done", st.Shards, st.Shards)) {
		t.Errorf("job status: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	// The worker's HTTP server.
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"tokenmill_worker_tasks_running 0", `tokenmill_worker_slots{state="free"} 2`, "tokenmill_worker_tokens_total"} {
		if !bytes.Contains(metrics, []byte(m)) {
			t.Errorf("the worker's /metrics has no %q", m)
		}
	}
	if resp, err := http.Get("http://" + httpAddr + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("the worker's /healthz: %v %v", resp, err)
	}

	// SIGTERM drains a worker: exit 0, and it leaves the members.
	if code := workers[1].stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("worker w2 stopped by SIGTERM: exit %d", code)
	}
	testutil.WaitFor(t, clusterTimeout, func() (bool, error) {
		ms, err := alive()
		_, there := ms["w2"]
		return err == nil && !there && len(ms) == 4, fmt.Errorf("alive: %v (%v)", ms, err)
	}, "w2 gone from the members")

	// A coordinator's refusal is one sentence.
	r = runBinary(t, "", "", "job", "status", "--addr", grpcAddrs[0], "no-such-job")
	if r.Code != 1 || strings.Contains(r.Stderr, "rpc error") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Errorf("job status of an unknown job: exit %d, stderr %q; want 1 and one sentence", r.Code, r.Stderr)
	}
}

// startDev starts `tokenmill dev ARGS...` and returns the process and the address it prints.
func startDev(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	p := startProc(t, append([]string{"dev"}, args...)...)
	var addr string
	testutil.WaitFor(t, clusterTimeout, func() (bool, error) {
		sc := bufio.NewScanner(strings.NewReader(p.out.String()))
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "address: "); ok {
				addr = a
				return true, nil
			}
		}
		return false, fmt.Errorf("stdout so far: %q", p.out.String())
	}, "tokenmill dev to print its address")
	return p, addr
}

// TestDev_PrintsAnAddressJobSubmitUses starts `tokenmill dev`, submits a job to the address
// it prints (from TOKENMILL_ADDR) and follows it to its end.
func TestDev_PrintsAnAddressJobSubmitUses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster")
	}
	p, addr := startDev(t, "--slots", "2")
	dir := t.TempDir()
	jobFile := writeClusterJob(t, dir)
	cmd := cliCommand(t, dir, "job", "submit", "--wait", jobFile)
	cmd.Env = append(cmd.Env, "TOKENMILL_ADDR="+addr)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("job submit --wait to tokenmill dev: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "manifest.json")); err != nil {
		t.Errorf("the job published no manifest: %v", err)
	}
	if code := p.stop(t, syscall.SIGINT); code != 0 {
		t.Errorf("tokenmill dev stopped by SIGINT: exit %d", code)
	}
}
