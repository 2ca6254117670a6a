package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/client"
)

// soakNode is one tokenmill process of the soak cluster (a coordinator or a worker) that the
// chaos kills, restarts, pauses and resumes. Each start is an incarnation with its own pid;
// stdout and stderr of every incarnation go to one log file, each start marked in it.
type soakNode struct {
	id, role string
	args     []string
	grpc     string // gRPC address, host:port
	logPath  string
	dataDir  string
	exe      string
	spare    bool // never killed (only paused): its memory is measured over the whole run

	mu          sync.Mutex
	cmd         *exec.Cmd
	done        chan struct{}
	paused      bool
	incarnation int
}

// start starts a new incarnation of the node.
func (n *soakNode) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return fmt.Errorf("%s is running", n.id)
	}
	f, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	n.incarnation++
	fmt.Fprintf(f, "=== soak: start %d of %s at %s\n", n.incarnation, n.id, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(n.exe, n.args...)
	cmd.Env = append(os.Environ(), "TOKENMILL_TEST_CLI=1")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		f.Close()
		close(done)
	}()
	n.cmd, n.done, n.paused = cmd, done, false
	return nil
}

// pid returns the running incarnation's pid and number, or 0.
func (n *soakNode) pid() (pid, incarnation int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0, n.incarnation
	}
	return n.cmd.Process.Pid, n.incarnation
}

// up says whether the node runs and is not paused.
func (n *soakNode) up() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil && !n.paused
}

// running says whether the node has a process (paused or not).
func (n *soakNode) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// kill sends SIGKILL and waits for the process to end.
func (n *soakNode) kill() error { return n.signalEnd(syscall.SIGKILL) }

// signalEnd sends sig (continuing a paused process) and waits up to a minute for the
// process to end.
func (n *soakNode) signalEnd(sig syscall.Signal) error {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s: %s: %w", n.id, sig, err)
	}
	cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not end within a minute of %s", n.id, sig)
	}
	n.mu.Lock()
	n.cmd, n.paused = nil, false
	n.mu.Unlock()
	return nil
}

// pause sends SIGSTOP; resume sends SIGCONT.
func (n *soakNode) pause() error  { return n.stopCont(syscall.SIGSTOP, true) }
func (n *soakNode) resume() error { return n.stopCont(syscall.SIGCONT, false) }

func (n *soakNode) stopCont(sig syscall.Signal, paused bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return fmt.Errorf("%s is not running", n.id)
	}
	if err := n.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s: %s: %w", n.id, sig, err)
	}
	n.paused = paused
	return nil
}

// logTail returns the last n bytes of the node's log.
func (n *soakNode) logTail(size int64) string {
	f, err := os.Open(n.logPath)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	fi, _ := f.Stat()
	off := max(fi.Size()-size, 0)
	b := make([]byte, fi.Size()-off)
	f.ReadAt(b, off)
	return string(b)
}

// soakCluster is 3 coordinators and 4 workers on loopback, each a process of this test binary
// run as `tokenmill coordinator` or `tokenmill worker`.
type soakCluster struct {
	coords, workers []*soakNode
	clients         map[string]*client.Client // by coordinator id
}

// startSoakCluster starts the coordinators, waits for a leader and 3 voters, starts the
// workers and waits until the coordinators see them alive. c1 and w1 are spares.
func startSoakCluster(t *testing.T, dir string) *soakCluster {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 3*3+4*2)
	next := func() string {
		p := ports[0]
		ports = ports[1:]
		return strconv.Itoa(p)
	}
	c := &soakCluster{clients: map[string]*client.Client{}}
	// The processes' logs outlive a failed test.
	logs, err := os.MkdirTemp("", "tokenmill-soak-logs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the processes' logs are kept in %s", logs)
			return
		}
		os.RemoveAll(logs)
	})
	type coordPorts struct{ grpc, raft, gossip string }
	var cp []coordPorts
	for range 3 {
		cp = append(cp, coordPorts{next(), next(), next()})
	}
	for i, p := range cp {
		id := fmt.Sprintf("c%d", i+1)
		args := []string{"coordinator", "--id", id, "--data-dir", filepath.Join(dir, id), "--bind", "127.0.0.1",
			"--grpc-port", p.grpc, "--raft-port", p.raft, "--gossip-port", p.gossip, "--bootstrap-expect", "3"}
		// Every coordinator joins the other two, so that a restarted one finds the cluster
		// whichever is down.
		for j, o := range cp {
			if j != i {
				args = append(args, "--join", "127.0.0.1:"+o.gossip)
			}
		}
		n := &soakNode{id: id, role: "coordinator", args: args, dataDir: filepath.Join(dir, id), grpc: "127.0.0.1:" + p.grpc, exe: exe,
			logPath: filepath.Join(logs, id+".log"), spare: i == 0}
		c.coords = append(c.coords, n)
		cl, err := client.Dial(n.grpc)
		if err != nil {
			t.Fatal(err)
		}
		c.clients[id] = cl
		t.Cleanup(func() { cl.Close() })
	}
	for i := 1; i <= 4; i++ {
		id := fmt.Sprintf("w%d", i)
		grpc, gossip := next(), next()
		args := []string{"worker", "--id", id, "--data-dir", filepath.Join(dir, id), "--bind", "127.0.0.1",
			"--grpc-port", grpc, "--gossip-port", gossip, "--slots", "2", "--drain-timeout", "20s"}
		for _, p := range cp {
			args = append(args, "--join", "127.0.0.1:"+p.gossip)
		}
		c.workers = append(c.workers, &soakNode{id: id, role: "worker", args: args, dataDir: filepath.Join(dir, id), grpc: "127.0.0.1:" + grpc, exe: exe,
			logPath: filepath.Join(logs, id+".log"), spare: i == 1})
	}
	t.Cleanup(func() {
		for _, n := range c.all() {
			n.kill()
		}
		if t.Failed() {
			for _, n := range c.all() {
				t.Logf("%s's log (end, %s):\n%s", n.id, n.logPath, n.logTail(4000))
			}
		}
	})
	for _, n := range c.coords {
		if err := n.start(); err != nil {
			t.Fatal(err)
		}
	}
	waitOrFatal(t, 2*clusterTimeout, "a leader and 3 voters", func() (bool, error) {
		leader, voters, err := c.leader("")
		return err == nil && leader != "" && voters == 3, fmt.Errorf("leader %q, %d voters: %v", leader, voters, err)
	})
	for _, n := range c.workers {
		if err := n.start(); err != nil {
			t.Fatal(err)
		}
	}
	waitOrFatal(t, 2*clusterTimeout, "4 workers alive in members", func() (bool, error) {
		alive, err := c.aliveWorkers()
		return err == nil && len(alive) == 4, fmt.Errorf("alive workers %v: %v", alive, err)
	})
	return c
}

func (c *soakCluster) all() []*soakNode { return append(slices.Clone(c.coords), c.workers...) }

// ask calls fn on the coordinators that run unpaused (besides skip), each with a 3 s
// timeout, until one answers; it returns the last error if none does.
func (c *soakCluster) ask(skip string, fn func(context.Context, *client.Client) error) error {
	err := fmt.Errorf("no coordinator runs")
	for _, n := range c.coords {
		if n.id == skip || !n.up() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = fn(ctx, c.clients[n.id])
		cancel()
		if err == nil {
			return nil
		}
		err = fmt.Errorf("%s: %w", n.id, err)
	}
	return err
}

// leader returns the leader's id and the number of voters, as a coordinator other than
// skip says.
func (c *soakCluster) leader(skip string) (leader string, voters int, err error) {
	err = c.ask(skip, func(ctx context.Context, cl *client.Client) error {
		ps, err := cl.RaftPeers(ctx)
		if err != nil {
			return err
		}
		leader, voters = "", 0
		for _, p := range ps {
			if p.State == "leader" {
				leader = p.Id
			}
			if p.Voter {
				voters++
			}
		}
		if leader == "" {
			return fmt.Errorf("no leader known")
		}
		return nil
	})
	return leader, voters, err
}

// aliveWorkers returns the ids of the workers alive in a coordinator's members.
func (c *soakCluster) aliveWorkers() ([]string, error) {
	var alive []string
	err := c.ask("", func(ctx context.Context, cl *client.Client) error {
		ms, err := cl.Members(ctx)
		if err != nil {
			return err
		}
		alive = alive[:0]
		for _, m := range ms {
			if m.Role == "worker" && m.State == "alive" {
				alive = append(alive, m.Id)
			}
		}
		return nil
	})
	slices.Sort(alive)
	return alive, err
}

// waitOrFatal is testutil.WaitFor with the condition's error in the failure.
func waitOrFatal(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	if err := pollUntil(timeout, cond); err != nil {
		t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
	}
}

// pollUntil polls cond every 100 ms until it holds or timeout passes; usable off the test's
// goroutine.
func pollUntil(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("the condition never held")
			}
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rssKiB reads VmRSS of a process from /proc.
func rssKiB(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb, err == nil
			}
		}
	}
	return 0, false
}
