package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tokenmill/tokenmill/coordinator"
	"github.com/tokenmill/tokenmill/worker"
)

// cmdDev implements `tokenmill dev`: a one-node coordinator and a worker in this process, on
// loopback, until SIGINT or SIGTERM.
func cmdDev(args []string, stdout, stderr io.Writer) int {
	c := newCommand("dev", "[flags]",
		"Run a cluster of one coordinator and one worker in this process, on loopback, and print its\naddress for 'tokenmill job submit --addr'.",
		devHelp, stdout, stderr)
	dataDir := c.fs.String("data-dir", "", "keep the coordinator's state in `DIR` (default: a temporary directory, removed at exit)")
	grpcPort := c.fs.Int("grpc-port", 0, "the coordinator's gRPC port (default 0: one the system chooses)")
	slots := c.fs.Int("slots", runtime.NumCPU(), "tasks the worker runs at once")
	verbose := c.fs.Bool("v", false, "log debug messages")
	if done, code := c.parse(args); done {
		return code
	}
	if c.fs.NArg() > 0 {
		return c.usageError("unexpected argument %q", c.fs.Arg(0))
	}
	if ok, code := c.positiveInt("slots", *slots); !ok {
		return code
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "tokenmill-dev-")
		if err != nil {
			fmt.Fprintln(stderr, "tokenmill dev:", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	nf := &nodeFlags{verbose: verbose}
	log := nf.logger(stderr)
	ctx, _, stop := signalContext(context.Background())
	defer stop()

	cfg := coordinator.DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.BindAddr = "dev", filepath.Join(dir, "coordinator"), "127.0.0.1"
	cfg.GRPCPort, cfg.RaftPort, cfg.GossipPort = *grpcPort, 0, 0
	cfg.BootstrapExpect, cfg.Version, cfg.Logger = 1, buildVersion(), log
	n, err := coordinator.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill dev:", err)
		return 1
	}
	defer n.Shutdown()
	if !waitLeader(ctx, n, 30*time.Second) {
		fmt.Fprintln(stderr, "tokenmill dev: the coordinator elected no leader within 30s")
		return 1
	}
	wcfg := worker.DefaultConfig()
	wcfg.ID, wcfg.DataDir, wcfg.BindAddr = "dev-worker", filepath.Join(dir, "worker"), "127.0.0.1"
	wcfg.GRPCPort, wcfg.GossipPort, wcfg.Slots = 0, 0, *slots
	wcfg.Join, wcfg.Version, wcfg.Logger = []string{n.Addrs().Gossip}, buildVersion(), log
	w, err := worker.New(wcfg)
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill dev:", err)
		return 1
	}
	addr := n.Addrs().GRPC
	fmt.Fprintf(stdout, "tokenmill dev: a coordinator and a worker (%d slots) on loopback; Ctrl-C stops them\naddress: %s\n\n"+
		"  export TOKENMILL_ADDR=%s\n  tokenmill job submit JOB.yaml --wait\n", *slots, addr, addr)
	<-ctx.Done()
	dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w.Drain(dctx)
	return 0
}

const devHelp = `The cluster lives as long as the command: its state is in a temporary directory unless
--data-dir is given. SIGINT or SIGTERM drains the worker and stops both (exit 0).
`

// waitLeader waits until the node knows a leader, up to timeout or the end of ctx.
func waitLeader(ctx context.Context, n *coordinator.Node, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n.Leader() == "" {
		select {
		case <-tick.C:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
	return true
}
