package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tokenmill/tokenmill/coordinator"
	"github.com/tokenmill/tokenmill/worker"
)

// listFlag is a repeatable string flag (--join, --tag).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}
func (l *listFlag) repeatable() {}

// nodeFlags are the flags coordinator and worker share.
type nodeFlags struct {
	id, dataDir, bind *string
	advertise         *string
	grpcPort          *int
	gossipPort        *int
	httpPort          *int
	join              listFlag
	verbose           *bool
	checkFlags        *bool
}

func addNodeFlags(c *command, grpcPort, gossipPort int) *nodeFlags {
	f := &nodeFlags{}
	host, _ := os.Hostname()
	f.id = c.fs.String("id", host, "the node's `ID`, unique in the cluster and stable across restarts (default: the host name)")
	f.dataDir = c.fs.String("data-dir", "", "the node's own `DIR`, created if missing (required)")
	f.bind = c.fs.String("bind", "", "the `IP` address every listener binds; 0.0.0.0 for every interface (required)")
	f.advertise = c.fs.String("advertise", "", "the `IP` address other nodes reach this one at (default: --bind, or with --bind 0.0.0.0 the private address gossip picks)")
	f.grpcPort = c.fs.Int("grpc-port", grpcPort, "gRPC port")
	f.gossipPort = c.fs.Int("gossip-port", gossipPort, "gossip port (TCP and UDP)")
	c.fs.Var(&f.join, "join", "gossip address `HOST:GOSSIP_PORT` of a node in the cluster (repeatable)")
	f.httpPort = c.fs.Int("http-port", -1, "serve /healthz and /metrics on this port (default -1: none)")
	f.verbose = c.fs.Bool("v", false, "log debug messages")
	f.checkFlags = c.fs.Bool("check-flags", false, "check the flags, print their values and exit 0 without starting the node (exit 2 on a usage error)")
	return f
}

// printFlags writes every flag of c but --check-flags as --name=value, one a line in
// alphabetical order (a repeated flag once per value), and returns 0: the output of
// --check-flags.
func (c *command) printFlags() int {
	c.fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "check-flags" {
			return
		}
		if l, ok := f.Value.(*listFlag); ok {
			for _, v := range *l {
				fmt.Fprintf(c.stdout, "--%s=%s\n", f.Name, v)
			}
			return
		}
		fmt.Fprintf(c.stdout, "--%s=%s\n", f.Name, f.Value.String())
	})
	return 0
}

// check returns the usage error of a missing required flag, or ok.
func (f *nodeFlags) check(c *command) (ok bool, code int) {
	for _, r := range []struct{ name, v string }{{"id", *f.id}, {"data-dir", *f.dataDir}, {"bind", *f.bind}} {
		if r.v == "" {
			return false, c.usageError("missing --%s", r.name)
		}
	}
	if c.fs.NArg() > 0 {
		return false, c.usageError("unexpected argument %q", c.fs.Arg(0))
	}
	return true, 0
}

func (f *nodeFlags) logger(stderr io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if *f.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// buildVersion is the module version of the binary, advertised in gossip.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(unknown)"
}

// cmdCoordinator implements `tokenmill coordinator`: one raft node of the control plane,
// until SIGINT or SIGTERM.
func cmdCoordinator(args []string, stdout, stderr io.Writer) int {
	c := newCommand("coordinator", "--id ID --data-dir DIR --bind IP --bootstrap-expect N [flags]",
		"Run a coordinator: a raft node that holds the jobs, schedules their tasks onto the workers and\nanswers the CLI.",
		coordinatorHelp, stdout, stderr)
	def := coordinator.DefaultConfig()
	nf := addNodeFlags(c, def.GRPCPort, def.GossipPort)
	raftPort := c.fs.Int("raft-port", def.RaftPort, "raft port")
	expect := c.fs.Int("bootstrap-expect", -1, "bootstrap raft once `N` coordinators see each other (0: never; wait to be added) (required)")
	slowness := c.fs.Float64("speculate-slowness", def.SpeculateSlowness,
		"once no shard of a job is pending, run again a shard whose progress rate is below this `FRACTION` of the job's median (0: never)")
	specAfter := c.fs.Duration("speculate-after", def.SpeculateAfter, "how long an attempt runs before its progress rate is judged")
	sf := addSecurityFlags(c, true)
	if done, code := c.parse(args); done {
		return code
	}
	if ok, code := nf.check(c); !ok {
		return code
	}
	if !c.anySet([]string{"bootstrap-expect"}) {
		return c.usageError("missing --bootstrap-expect (the number of coordinators that form the cluster)")
	}
	if *expect < 0 {
		return c.usageError("--bootstrap-expect must be 0 or more, got %d", *expect)
	}
	if *nf.checkFlags {
		return c.printFlags()
	}
	cfg := def
	cfg.ID, cfg.DataDir, cfg.BindAddr, cfg.AdvertiseAddr = *nf.id, *nf.dataDir, *nf.bind, *nf.advertise
	cfg.GRPCPort, cfg.RaftPort, cfg.GossipPort, cfg.HTTPPort = *nf.grpcPort, *raftPort, *nf.gossipPort, *nf.httpPort
	cfg.Join, cfg.BootstrapExpect = nf.join, *expect
	cfg.SpeculateSlowness, cfg.SpeculateAfter = *slowness, *specAfter
	cfg.Version, cfg.Logger = buildVersion(), nf.logger(stderr)
	sec, err := sf.load()
	if err != nil {
		return c.usageError("%v", err)
	}
	cfg.GossipKey, cfg.TLS, cfg.PersonToken, cfg.WorkerToken, cfg.AllowedRoots = sec.gossipKey, sec.tls, sec.token, sec.workerToken, sec.roots
	if err := cfg.Validate(); err != nil {
		return c.usageError("%s", oneLine(err, "coordinator: "))
	}
	ctx, received, stop := signalContext(context.Background())
	defer stop()
	n, err := coordinator.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill coordinator:", strings.TrimPrefix(err.Error(), "coordinator: "))
		return 1
	}
	a := n.Addrs()
	fmt.Fprintf(stdout, "coordinator %s: grpc %s, raft %s, gossip %s%s\n", cfg.ID, a.GRPC, a.Raft, a.Gossip, httpNote(a.HTTP))
	<-ctx.Done()
	cfg.Logger.Info("shutting down", "signal", received())
	if err := n.Shutdown(); err != nil {
		fmt.Fprintln(stderr, "tokenmill coordinator: shutdown:", err)
		return 1
	}
	return 0
}

const coordinatorHelp = `Coordinators form the cluster by gossip: each joins another through --join, and once
--bootstrap-expect of them see each other they bootstrap raft together. A coordinator that joins
later is added as a voter; one that is gone for good is removed with
'tokenmill operator raft remove-peer'. Restarted on the same --data-dir, a coordinator recovers
its state and rejoins. SIGINT or SIGTERM stops it (exit 0).
`

func httpNote(addr string) string {
	if addr == "" {
		return ""
	}
	return ", http " + addr
}

// oneLine joins the lines of a joined error with "; ", each without the package prefix
// ("coordinator: ") the command's name already says.
func oneLine(err error, prefix string) string {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, prefix)
	}
	return strings.Join(lines, "; ")
}

// cmdWorker implements `tokenmill worker`: runs tasks of the cluster's jobs until SIGINT or
// SIGTERM, which drain it.
func cmdWorker(args []string, stdout, stderr io.Writer) int {
	c := newCommand("worker", "--id ID --data-dir DIR --bind IP --join HOST:GOSSIP_PORT [flags]",
		"Run a worker: it joins the cluster by gossip and runs the tasks the coordinators lease to it.",
		workerHelp, stdout, stderr)
	def := worker.DefaultConfig()
	nf := addNodeFlags(c, def.GRPCPort, def.GossipPort)
	slots := c.fs.Int("slots", runtime.NumCPU(), "tasks run at once")
	var tags listFlag
	c.fs.Var(&tags, "tag", "placement tag `KEY=VALUE`, advertised in gossip (repeatable)")
	drain := c.fs.Duration("drain-timeout", 60*time.Second, "on SIGINT or SIGTERM, the `DURATION` running tasks have to finish before they are handed back")
	sf := addSecurityFlags(c, false)
	if done, code := c.parse(args); done {
		return code
	}
	if ok, code := nf.check(c); !ok {
		return code
	}
	if len(nf.join) == 0 {
		return c.usageError("missing --join (the gossip address of a coordinator)")
	}
	if ok, code := c.positiveInt("slots", *slots); !ok {
		return code
	}
	if *drain < 0 {
		return c.usageError("--drain-timeout must not be negative, got %v", *drain)
	}
	tagMap, err := worker.ParseTags(tags)
	if err != nil {
		return c.usageError("--tag: %s", strings.TrimPrefix(err.Error(), "worker: "))
	}
	if *nf.checkFlags {
		return c.printFlags()
	}
	cfg := def
	cfg.ID, cfg.DataDir, cfg.BindAddr, cfg.AdvertiseAddr = *nf.id, *nf.dataDir, *nf.bind, *nf.advertise
	cfg.GRPCPort, cfg.GossipPort, cfg.HTTPPort = *nf.grpcPort, *nf.gossipPort, *nf.httpPort
	cfg.Join, cfg.Slots, cfg.Tags = nf.join, *slots, tagMap
	cfg.Version, cfg.Logger = buildVersion(), nf.logger(stderr)
	sec, err := sf.load()
	if err != nil {
		return c.usageError("%v", err)
	}
	cfg.GossipKey, cfg.TLS, cfg.WorkerToken, cfg.AllowedRoots = sec.gossipKey, sec.tls, sec.workerToken, sec.roots
	if err := cfg.Validate(); err != nil {
		return c.usageError("%s", oneLine(err, "worker: "))
	}
	ctx, received, stop := signalContext(context.Background())
	defer stop()
	w, err := worker.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill worker:", strings.TrimPrefix(err.Error(), "worker: "))
		return 1
	}
	fmt.Fprintf(stdout, "worker %s: %d slots, grpc %s, gossip %s%s\n", cfg.ID, cfg.Slots, w.GRPCAddr(), w.GossipAddr(), httpNote(w.HTTPAddr()))
	<-ctx.Done()
	cfg.Logger.Info("draining", "signal", received(), "timeout", *drain)
	dctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if err := w.Drain(dctx); err != nil {
		cfg.Logger.Warn("the drain timed out; the tasks still running were handed back", "timeout", *drain)
	}
	return 0
}

const workerHelp = `Workers read the jobs' inputs and write their outputs: every worker must see the job's paths
at the same place (a shared filesystem). SIGINT or SIGTERM drains the worker: it takes no new
task, lets the running ones finish within --drain-timeout (those still running then are handed
back to the cluster, to run elsewhere), leaves the cluster and exits 0.
`
