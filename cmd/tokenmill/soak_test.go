package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
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
	"github.com/tokenmill/tokenmill/internal/outdir"
	"github.com/tokenmill/tokenmill/internal/testutil"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// The soak test's settings, from the environment (`make soak` sets them):
//
//	SOAK_DURATION  how long jobs are submitted while the chaos runs (default soakShort)
//	SOAK_SEED      the chaos's seed (default: from the clock); printed, and a failure prints
//	               the command that replays it
const soakShort = 30 * time.Second

// soakLeaseTTL is the coordinators' lease TTL (coordinator.DefaultConfig; the binary has no
// flag for it): a paused worker stays stopped longer than this.
const soakLeaseTTL = 10 * time.Second

// soakMaxActive is the number of jobs the submitter keeps in flight.
const soakMaxActive = 3

// soakMaxAttempts is every soak job's max_attempts: a task lost at each of the chaos's kills
// and pauses that hit it must still be retried (a leader kill can lose every lease at once).
const soakMaxAttempts = 50

// TestSoak_ChaosCluster runs 3 coordinators and 4 workers as processes on loopback and
// submits a stream of small jobs of every kind (pretrain, validate, convert) for
// SOAK_DURATION while a seeded chaos loop SIGKILLs and restarts coordinators (the leader
// among them; never more than one coordinator out at once) and workers, and pauses them
// (SIGSTOP, a worker for longer than its lease). Then every job must have succeeded with an
// output byte-identical to `tokenmill run` of its job file (run.json aside), no staged or
// temporary file may be left, the raft log must show every task committed exactly once
// (stale results refused), the three raft logs must agree, and the memory of the processes
// that ran throughout must be flat. It prints the jobs run, the failures injected and the
// worst time from a kill to recovery.
func TestSoak_ChaosCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster of 7 processes under chaos")
	}
	duration := soakShort
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("SOAK_DURATION=%q: want a positive duration such as 10m", v)
		}
		duration = d
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SOAK_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SOAK_SEED=%q: want an unsigned integer", v)
		}
		seed = s
	}
	t.Logf("soak: seed %d, duration %v", seed, duration)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("soak: replay with: SOAK_SEED=%d SOAK_DURATION=%v go test -count=1 -v -run '^TestSoak_ChaosCluster$' ./cmd/tokenmill", seed, duration)
		}
	})

	// The cluster's directories (raft logs, worker data, job outputs) outlive a failed test.
	dir, err := os.MkdirTemp("", "tokenmill-soak-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the cluster's directories are kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	kinds := writeSoakInputs(t, filepath.Join(dir, "in"))
	c := startSoakCluster(t, dir)
	mem := newMemSampler(c, max(duration/60, time.Second))
	defer mem.stop()

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	sub := &soakSubmitter{c: c, dir: dir, kinds: kinds, exe: c.coords[0].exe, jobs: map[string]*soakJob{}}
	ch := &soakChaos{c: c, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), log: t.Logf}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); sub.run(ctx) }()
	go func() { defer wg.Done(); ch.run(ctx) }()
	wg.Wait()
	chaosEnd := time.Now()
	mem.markEnd(chaosEnd)
	if err := ch.heal(); err != nil {
		t.Fatal(err)
	}
	if ch.err != nil {
		t.Fatalf("chaos: %v", ch.err)
	}
	if len(sub.jobs) == 0 {
		t.Fatalf("no job was submitted in %v (%d submissions failed: %v)", duration, sub.submitFailures, sub.lastErr)
	}

	// Every job the cluster holds (those whose submission timed out too) ends.
	var final []*pb.JobStatus
	waitOrFatal(t, 3*time.Minute, "every job to end", func() (bool, error) {
		var js []*pb.JobStatus
		err := c.ask("", func(ctx context.Context, cl *client.Client) (err error) {
			js, err = cl.Jobs(ctx)
			return err
		})
		if err != nil {
			return false, err
		}
		final = js
		for _, j := range js {
			if !isFinal(j.State) {
				return false, fmt.Errorf("job %s (%s) is %s: %d/%d shards, %d failed attempts", j.JobId, j.Name,
					j.State, j.ShardsDone, j.Shards, j.FailedAttempts)
			}
		}
		return true, nil
	})
	var failedAttempts uint32
	for _, j := range final {
		failedAttempts += j.FailedAttempts
		if _, ok := sub.jobs[j.Name]; !ok {
			t.Errorf("job %s (%s): the soak submitted no job of that name", j.JobId, j.Name)
			continue
		}
		if j.State != pb.JobState_JOB_STATE_SUCCEEDED {
			t.Errorf("job %s (%s, %s): %s: %s (%d failed attempts)", j.JobId, j.Name, sub.jobs[j.Name].kind, j.State, j.Error, j.FailedAttempts)
		}
	}
	for name, j := range sub.jobs {
		if j.id != "" && !slices.ContainsFunc(final, func(s *pb.JobStatus) bool { return s.JobId == j.id }) {
			t.Errorf("job %s (%s) was submitted but the cluster does not list it", j.id, name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Outputs: nothing temporary left, the same bytes as `tokenmill run`.
	verified := verifySoakOutputs(t, final, sub.jobs)

	// The coordinators stop (SIGTERM) so that their raft logs can be read.
	for _, n := range backward(c.all()) {
		if err := n.signalEnd(syscall.SIGTERM); err != nil {
			t.Error(err)
		}
	}
	logs := checkRaftLogs(t, c, final, ch.workerEvents())
	memReport := mem.check(t)

	perKind := map[string]int{}
	for _, j := range final {
		perKind[sub.jobs[j.Name].kind]++
	}
	var kindsLine []string
	for _, k := range slices.Sorted(maps.Keys(perKind)) {
		kindsLine = append(kindsLine, fmt.Sprintf("%s %d", k, perKind[k]))
	}
	worst := max(ch.worstLeader, logs.worstWorker)
	t.Logf(`soak summary (seed %d, %v of chaos):
  jobs run           %d succeeded (%s), %d outputs byte-identical to tokenmill run; %d submissions failed and were retried
  failures injected  %s
  lost attempts      %d (leases expired or attempts failed, retried; max_attempts %d)
  raft log           %d entries replayed (from index %d); %d task commits, each task once; %d stale results refused
  recovery           worst leader kill -> new leader %v; worst worker kill/pause -> its leased tasks committed %v (%d of %d measured)
  worst kill to recovery %v
  memory             %s`,
		seed, duration, len(final), strings.Join(kindsLine, ", "), verified, sub.submitFailures,
		ch.summary(), failedAttempts, soakMaxAttempts,
		logs.entries, logs.first, logs.commits, logs.refused,
		ch.worstLeader.Round(time.Millisecond), logs.worstWorker.Round(time.Millisecond), logs.measured, logs.events,
		worst.Round(time.Millisecond), memReport)
	if ch.kills() == 0 {
		t.Errorf("the chaos killed nothing in %v", duration)
	}
}

// backward returns the nodes in reverse order: the workers before the coordinators.
func backward(ns []*soakNode) []*soakNode {
	ns = slices.Clone(ns)
	slices.Reverse(ns)
	return ns
}

func isFinal(s pb.JobState) bool {
	return s == pb.JobState_JOB_STATE_SUCCEEDED || s == pb.JobState_JOB_STATE_FAILED || s == pb.JobState_JOB_STATE_CANCELED
}

// soakKind is a job template: a kind and the body of its job file without name and output.
type soakKind struct{ name, body string }

// writeSoakInputs writes the inputs every job reads and returns the job templates: two
// pretraining jobs (npy; hf with two sequence lengths), a validate job and three convert jobs
// (hf, jsonl, parquet), each planned as several shards.
func writeSoakInputs(t *testing.T, in string) []soakKind {
	t.Helper()
	lines := testutil.DemoLines(t)
	var pre [4]bytes.Buffer
	for i, l := range lines {
		pre[i%4].Write(l)
		pre[i%4].WriteByte('\n')
	}
	for i := range pre {
		writeFile(t, filepath.Join(in, "pretrain", fmt.Sprintf("part-%d.jsonl", i)), pre[i].String())
	}
	sft, err := os.ReadFile("../../validate/testdata/oasst2.messages.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	sftLines := strings.SplitAfter(string(sft), "\n")
	writeFile(t, filepath.Join(in, "sft", "a.jsonl"), strings.Join(sftLines[:200], ""))
	writeFile(t, filepath.Join(in, "sft", "b.jsonl"), strings.Join(sftLines[200:400], ""))
	common := fmt.Sprintf("max_attempts: %d\n", soakMaxAttempts)
	return []soakKind{
		{"pretrain", common + fmt.Sprintf("inputs: [%q]\ntokenizer: cl100k_base\nsequence_lengths: [128]\nshard_size: 128KiB\noutput:\n  formats: [npy]\n  dtype: int32\n",
			filepath.Join(in, "pretrain", "*.jsonl"))},
		{"pretrain", common + fmt.Sprintf("inputs: [%q]\ntokenizer: cl100k_base\nsequence_lengths: [64, 256]\nshard_size: 192KiB\nval_fraction: 0.1\noutput:\n  formats: [hf]\n",
			filepath.Join(in, "pretrain", "*.jsonl"))},
		{"validate", common + fmt.Sprintf("kind: validate\ninputs: [%q]\nstage: sft\nmax_errors: 5\nshard_size: 96KiB\n", filepath.Join(in, "sft"))},
		{"convert", common + fmt.Sprintf("kind: convert\ninputs: [%q]\nto: hf\nshard_size: 96KiB\n", filepath.Join(in, "sft"))},
		{"convert", common + fmt.Sprintf("kind: convert\ninputs: [%q]\nto: jsonl\nshard_size: 96KiB\n", filepath.Join(in, "sft"))},
		{"convert", common + fmt.Sprintf("kind: convert\ninputs: [%q]\nto: parquet\nshard_size: 96KiB\n", filepath.Join(in, "sft"))},
	}
}

// soakJob is one submission: its job file, output directory and id (empty when the
// submission's answer was lost: the cluster may hold it or not).
type soakJob struct {
	kind, file, out, id string
}

// soakSubmitter submits jobs through `tokenmill job submit` to a random running coordinator,
// keeping soakMaxActive of them in flight. A submission that fails is not retried under the
// same name: the cluster may hold it (its answer lost), and a new job gets a new name and
// output directory.
type soakSubmitter struct {
	c     *soakCluster
	dir   string
	kinds []soakKind
	exe   string

	mu             sync.Mutex
	jobs           map[string]*soakJob // by name
	submitFailures int
	lastErr        error
}

func (s *soakSubmitter) run(ctx context.Context) {
	for n := 0; ctx.Err() == nil; n++ {
		s.waitForRoom(ctx)
		if ctx.Err() != nil {
			return
		}
		k := s.kinds[n%len(s.kinds)]
		name := fmt.Sprintf("soak-%04d", n)
		j := &soakJob{kind: k.name, out: filepath.Join(s.dir, "out", name), file: filepath.Join(s.dir, "jobs", name+".yaml")}
		body := fmt.Sprintf("name: %s\n%s", name, k.body)
		if strings.Contains(body, "output:\n") {
			body = strings.Replace(body, "output:\n", fmt.Sprintf("output:\n  dir: %q\n", j.out), 1)
		} else {
			body += fmt.Sprintf("output: {dir: %q}\n", j.out)
		}
		if err := os.MkdirAll(filepath.Dir(j.file), 0o755); err != nil {
			s.fail(err)
			return
		}
		if err := os.WriteFile(j.file, []byte(body), 0o644); err != nil {
			s.fail(err)
			return
		}
		s.mu.Lock()
		s.jobs[name] = j
		s.mu.Unlock()
		id, err := s.submit(j.file)
		s.mu.Lock()
		if err != nil {
			s.submitFailures++
			s.lastErr = err
		}
		j.id = id
		s.mu.Unlock()
	}
}

func (s *soakSubmitter) fail(err error) {
	s.mu.Lock()
	s.submitFailures++
	s.lastErr = err
	s.mu.Unlock()
}

// submit runs `tokenmill job submit --addr A FILE` against a running coordinator, with a
// 20 s timeout (a paused coordinator does not answer).
func (s *soakSubmitter) submit(file string) (string, error) {
	var addrs []string
	for _, n := range s.c.coords {
		if n.up() {
			addrs = append(addrs, n.grpc)
		}
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("no coordinator runs")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.exe, "job", "submit", "--addr", addrs[len(s.jobs)%len(addrs)], file)
	cmd.Env = append(os.Environ(), "TOKENMILL_TEST_CLI=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("job submit %s: %v: %s", filepath.Base(file), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// waitForRoom returns when fewer than soakMaxActive jobs are in flight in the cluster's view
// (or ctx ends).
func (s *soakSubmitter) waitForRoom(ctx context.Context) {
	for ctx.Err() == nil {
		var js []*pb.JobStatus
		err := s.c.ask("", func(ctx context.Context, cl *client.Client) (err error) {
			js, err = cl.Jobs(ctx)
			return err
		})
		if err == nil {
			active := 0
			for _, j := range js {
				if !isFinal(j.State) {
					active++
				}
			}
			if active < soakMaxActive {
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// verifySoakOutputs checks every succeeded job's output: no temporary file or staging area
// beside or inside it, and the same files as `tokenmill run` of its job file into the same
// directory (the cluster's output moved aside first), run.json aside. It returns the
// number of outputs checked.
func verifySoakOutputs(t *testing.T, final []*pb.JobStatus, jobs map[string]*soakJob) int {
	t.Helper()
	n := 0
	for _, st := range final {
		j := jobs[st.Name]
		left, err := outdir.Leftovers(j.out)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range left {
			t.Errorf("job %s (%s): left behind: %s (%d bytes)", st.JobId, st.Name, l.Path, l.Bytes)
		}
		got := testutil.ReadTree(t, j.out, "run.json")
		if len(got) == 0 {
			t.Errorf("job %s (%s): its output %s is empty", st.JobId, st.Name, j.out)
			continue
		}
		aside := j.out + ".cluster"
		if err := os.Rename(j.out, aside); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := runCLI(t, "", "run", "--progress", "none", j.file); code != 0 {
			t.Errorf("job %s (%s): tokenmill run %s: exit %d: %s", st.JobId, st.Name, j.file, code, errs)
			continue
		}
		testutil.SameTree(t, fmt.Sprintf("job %s (%s, %s): the cluster's output against tokenmill run's", st.JobId, st.Name, j.kind),
			testutil.ReadTree(t, j.out, "run.json"), got)
		os.RemoveAll(aside)
		os.RemoveAll(j.out)
		n++
	}
	return n
}
