package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tokenmill/tokenmill/client"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// callTimeout bounds one call to the coordinator (not a followed job).
const callTimeout = 30 * time.Second

// followInterval is the longest time between two progress lines of a followed job.
const followInterval = 5 * time.Second

// addrFlag registers --addr (its environment variable is TOKENMILL_ADDR, as for every flag)
// and the credentials the client sends (addClientSecurityFlags).
func addrFlag(c *command) *string {
	addClientSecurityFlags(c)
	return c.fs.String("addr", "", "a coordinator's gRPC address `HOST:PORT` (or TOKENMILL_ADDR)")
}

// dial returns a client of the coordinator at addr; a missing address is a usage error.
func dial(c *command, addr string) (*client.Client, int, bool) {
	if addr == "" {
		return nil, c.usageError("missing --addr HOST:PORT (or set TOKENMILL_ADDR): which coordinator to ask"), false
	}
	opts, err := clientDialOptions(c)
	if err != nil {
		return nil, c.usageError("%v", err), false
	}
	cl, err := client.Dial(addr, opts...)
	if err != nil {
		fmt.Fprintf(c.stderr, "tokenmill %s: %v\n", c.name, err)
		return nil, 1, false
	}
	return cl, 0, true
}

// call parses args, checks that they hold the positional arguments want names, dials addr
// and runs fn with a context of callTimeout; an error from fn is printed as c.fail prints it.
// It returns the exit status.
func (c *command) call(args []string, addr *string, want []string, fn func(context.Context, *client.Client) error) int {
	if done, code := c.parse(args); done {
		return code
	}
	if ok, code := c.wantArgs(want...); !ok {
		return code
	}
	cl, code, ok := dial(c, *addr)
	if !ok {
		return code
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := fn(ctx, cl); err != nil {
		return c.fail(err)
	}
	return 0
}

// args checks the number of positional arguments: want names them ("JOB_ID"), in order.
func (c *command) wantArgs(want ...string) (ok bool, code int) {
	switch n := c.fs.NArg(); {
	case n < len(want):
		return false, c.usageError("missing %s", want[n])
	case n > len(want):
		return false, c.usageError("unexpected argument %q", c.fs.Arg(len(want)))
	}
	return true, 0
}

// fail prints err as the command's error and returns 1.
func (c *command) fail(err error) int {
	fmt.Fprintf(c.stderr, "tokenmill %s: %v\n", c.name, err)
	return 1
}

// cmdJob implements `tokenmill job SUBCOMMAND`.
func cmdJob(args []string, stdout, stderr io.Writer) int {
	return runSubcommand("job", "Submit, follow, list and cancel jobs on a cluster.", []subcommand{
		{"submit", "submit a job file to the cluster; prints the job id (--wait follows it to its end)",
			func(a []string) int { return cmdJobSubmit(a, stdout, stderr) }},
		{"status", "show a job's state, shards, attempts, progress and error",
			func(a []string) int { return cmdJobStatus(a, stdout, stderr) }},
		{"list", "list the cluster's jobs", func(a []string) int { return cmdJobList(a, stdout, stderr) }},
		{"watch", "follow a job's progress to its end", func(a []string) int { return cmdJobWatch(a, stdout, stderr) }},
		{"cancel", "cancel a job: nothing is published", func(a []string) int { return cmdJobCancel(a, stdout, stderr) }},
	}, args, stdout, stderr)
}

func cmdJobSubmit(args []string, stdout, stderr io.Writer) int {
	c := newCommand("job submit", "--addr HOST:PORT [--wait] JOB.yaml",
		"Submit a job file to the cluster and print the job's id.", jobSubmitHelp, stdout, stderr)
	addr := addrFlag(c)
	wait := c.fs.Bool("wait", false, "follow the job's progress on stderr to its end, then print its summary; exit 0 if it succeeded, 1 if not")
	if done, code := c.parse(args); done {
		return code
	}
	if ok, code := c.wantArgs("JOB.yaml"); !ok {
		return code
	}
	cl, code, ok := dial(c, *addr)
	if !ok {
		return code
	}
	defer cl.Close()
	spec, b, err := client.LoadJob(c.fs.Arg(0))
	if err != nil {
		return c.fail(err)
	}
	ctx, received, stop := signalContext(context.Background())
	defer stop()
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	id, err := cl.Submit(cctx, b)
	cancel()
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(stdout, id)
	if !*wait {
		return 0
	}
	st, err := cl.Follow(ctx, id, stderr, start, followInterval)
	if sig := received(); sig != nil {
		fmt.Fprintf(stderr, "tokenmill job submit: stopped following job %s by %s; the job goes on (tokenmill job cancel %s stops it)\n", id, sig, id)
		return signalExit(sig)
	}
	if err != nil {
		return c.fail(err)
	}
	if err := client.WriteOutcome(stdout, spec, st, time.Since(start)); err != nil {
		return c.fail(err)
	}
	if st.State != pb.JobState_JOB_STATE_SUCCEEDED {
		return 1
	}
	return 0
}

const jobSubmitHelp = `JOB.yaml is a job file as 'tokenmill run' takes it (README: "A job"); its relative paths are
made absolute against its directory before it is sent, so every worker must see them at that
place (a shared filesystem).
exit:  0 submitted (with --wait: the job succeeded), 1 an error (with --wait: the job failed or
       was canceled), 2 bad usage, 130/143 SIGINT/SIGTERM while following (the job goes on)
`

func cmdJobStatus(args []string, stdout, stderr io.Writer) int {
	c := newCommand("job status", "--addr HOST:PORT [--json] JOB_ID",
		"Show a job's state, shards done, failed attempts, progress (documents, tokens, bytes) and, for\na failed job, the error naming the shard, its input and the cause.", "", stdout, stderr)
	addr := addrFlag(c)
	asJSON := c.fs.Bool("json", false, "print one JSON object")
	return c.call(args, addr, []string{"JOB_ID"}, func(ctx context.Context, cl *client.Client) error {
		st, err := cl.Job(ctx, c.fs.Arg(0))
		if err != nil {
			return err
		}
		if *asJSON {
			client.WriteJSON(stdout, client.JobOf(st))
			return nil
		}
		client.WriteJob(stdout, client.JobOf(st))
		return nil
	})
}

func cmdJobList(args []string, stdout, stderr io.Writer) int {
	c := newCommand("job list", "--addr HOST:PORT [--json]", "List the cluster's jobs, in submission order.", "", stdout, stderr)
	addr := addrFlag(c)
	asJSON := c.fs.Bool("json", false, `print one JSON object: {"jobs": [...]}, each as 'job status --json' prints it`)
	return c.call(args, addr, nil, func(ctx context.Context, cl *client.Client) error {
		sts, err := cl.Jobs(ctx)
		if err != nil {
			return err
		}
		jobs := make([]client.Job, 0, len(sts))
		for _, st := range sts {
			jobs = append(jobs, client.JobOf(st))
		}
		if *asJSON {
			client.WriteJSON(stdout, map[string]any{"jobs": jobs})
			return nil
		}
		client.WriteJobs(stdout, jobs)
		return nil
	})
}

func cmdJobWatch(args []string, stdout, stderr io.Writer) int {
	c := newCommand("job watch", "--addr HOST:PORT JOB_ID",
		"Follow a job: a progress line at each change of its state (and every few seconds) until it\nis over, then its status.", "exit:  0 the job succeeded, 1 it failed or was canceled (or an error), 2 bad usage\n", stdout, stderr)
	addr := addrFlag(c)
	if done, code := c.parse(args); done {
		return code
	}
	if ok, code := c.wantArgs("JOB_ID"); !ok {
		return code
	}
	cl, code, ok := dial(c, *addr)
	if !ok {
		return code
	}
	defer cl.Close()
	ctx, received, stop := signalContext(context.Background())
	defer stop()
	st, err := cl.Follow(ctx, c.fs.Arg(0), stdout, time.Now(), followInterval)
	if sig := received(); sig != nil {
		return signalExit(sig)
	}
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(stdout)
	client.WriteJob(stdout, client.JobOf(st))
	if st.State != pb.JobState_JOB_STATE_SUCCEEDED {
		return 1
	}
	return 0
}

func cmdJobCancel(args []string, stdout, stderr io.Writer) int {
	c := newCommand("job cancel", "--addr HOST:PORT JOB_ID",
		"Cancel a job: no new task starts, running ones are stopped, staged files are removed and\nnothing is published.", "", stdout, stderr)
	addr := addrFlag(c)
	return c.call(args, addr, []string{"JOB_ID"}, func(ctx context.Context, cl *client.Client) error {
		st, err := cl.Cancel(ctx, c.fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "job %s %s\n", st.JobId, client.StateName(st.State))
		return nil
	})
}

// cmdMembers implements `tokenmill members`.
func cmdMembers(args []string, stdout, stderr io.Writer) int {
	c := newCommand("members", "--addr HOST:PORT [--json]",
		"List the cluster's members as gossip knows them: id, role, address, state, slots, tags.", "", stdout, stderr)
	addr := addrFlag(c)
	asJSON := c.fs.Bool("json", false, `print one JSON object: {"members": [...]}`)
	return c.call(args, addr, nil, func(ctx context.Context, cl *client.Client) error {
		ms, err := cl.Members(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			client.WriteJSON(stdout, map[string]any{"members": client.MembersOf(ms)})
			return nil
		}
		client.WriteMembers(stdout, client.MembersOf(ms))
		return nil
	})
}

// cmdOperator implements `tokenmill operator raft SUBCOMMAND`.
func cmdOperator(args []string, stdout, stderr io.Writer) int {
	return runSubcommand("operator", "Operate the coordinators' raft cluster.", []subcommand{
		{"raft", "list and remove raft peers", func(a []string) int { return cmdOperatorRaft(a, stdout, stderr) }},
	}, args, stdout, stderr)
}

func cmdOperatorRaft(args []string, stdout, stderr io.Writer) int {
	return runSubcommand("operator raft", "List and remove the coordinators' raft peers.", []subcommand{
		{"list-peers", "list the raft peers: id, address, state (leader|follower), voter",
			func(a []string) int { return cmdListPeers(a, stdout, stderr) }},
		{"remove-peer", "remove a coordinator that is gone for good from the raft configuration",
			func(a []string) int { return cmdRemovePeer(a, stdout, stderr) }},
	}, args, stdout, stderr)
}

func cmdListPeers(args []string, stdout, stderr io.Writer) int {
	c := newCommand("operator raft list-peers", "--addr HOST:PORT [--json]",
		"List the raft peers of the coordinators: id, raft address, state (leader|follower), voter.", "", stdout, stderr)
	addr := addrFlag(c)
	asJSON := c.fs.Bool("json", false, `print one JSON object: {"peers": [...]}`)
	return c.call(args, addr, nil, func(ctx context.Context, cl *client.Client) error {
		ps, err := cl.RaftPeers(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			client.WriteJSON(stdout, map[string]any{"peers": client.PeersOf(ps)})
			return nil
		}
		client.WritePeers(stdout, client.PeersOf(ps))
		return nil
	})
}

func cmdRemovePeer(args []string, stdout, stderr io.Writer) int {
	c := newCommand("operator raft remove-peer", "--addr HOST:PORT ID",
		"Remove a coordinator from the raft configuration (one that is gone for good; a live one\nwould be added again).", "", stdout, stderr)
	addr := addrFlag(c)
	return c.call(args, addr, []string{"ID"}, func(ctx context.Context, cl *client.Client) error {
		if err := cl.RemovePeer(ctx, c.fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed raft peer %s\n", c.fs.Arg(0))
		return nil
	})
}
