package client

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/runner"
)

// Job is a job's status as `tokenmill job status --json` prints it. Its fields are stable:
// new ones may be added, none renamed or removed.
type Job struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	State     string `json:"state"` // planning, running, finalizing, succeeded, failed, canceled
	Submitted string `json:"submitted"`
	// Shards is the number of shards (0 until planned), ShardsDone those committed.
	Shards     uint32 `json:"shards"`
	ShardsDone uint32 `json:"shards_done"`
	Tasks      Tasks  `json:"tasks"`
	// FailedAttempts counts lost leases and failed attempts; each task may fail MaxAttempts
	// times before the job fails.
	FailedAttempts uint32   `json:"failed_attempts"`
	MaxAttempts    uint32   `json:"max_attempts"`
	Progress       Progress `json:"progress"`
	// Error says why the job failed or was canceled: for a failed shard its id, input and
	// last cause.
	Error  string  `json:"error,omitempty"`
	Result *Result `json:"result,omitempty"`
	// Unplaceable says why no alive worker can run the job's tasks (a constraint that
	// matches no worker's tags); empty when one can.
	Unplaceable string `json:"unplaceable,omitempty"`
}

// Tasks count a job's tasks (plan, shards, finalize) by state.
type Tasks struct {
	Blocked   uint32 `json:"blocked"`
	Pending   uint32 `json:"pending"`
	Leased    uint32 `json:"leased"`
	Committed uint32 `json:"committed"`
}

// Progress is the work done: committed shards and the running ones' last reports.
type Progress struct {
	Documents int64 `json:"documents"`
	Rejected  int64 `json:"rejected"`
	Tokens    int64 `json:"tokens"`
	Bytes     int64 `json:"bytes"`
}

// Result is what a succeeded job published.
type Result struct {
	Documents   int64 `json:"documents_read"`
	Written     int64 `json:"documents_written"`
	Rejected    int64 `json:"documents_rejected"`
	TokensTrain int64 `json:"tokens_train"`
	TokensVal   int64 `json:"tokens_val"`
	Sequences   int64 `json:"sequences"`
}

// JobOf returns the view of a job's status.
func JobOf(st *pb.JobStatus) Job {
	j := Job{ID: st.JobId, Name: st.Name, State: StateName(st.State),
		Submitted: time.UnixMilli(st.SubmittedUnixMs).UTC().Format(time.RFC3339),
		Shards:    st.Shards, ShardsDone: st.ShardsDone, FailedAttempts: st.FailedAttempts, MaxAttempts: st.MaxAttempts,
		Error: st.Error, Unplaceable: st.Unplaceable}
	if t := st.Tasks; t != nil {
		j.Tasks = Tasks{Blocked: t.Blocked, Pending: t.Pending, Leased: t.Leased, Committed: t.Committed}
	}
	if p := st.Progress; p != nil {
		j.Progress = Progress{Documents: p.Documents, Rejected: p.Rejected, Tokens: p.Tokens, Bytes: p.Bytes}
	}
	if r := st.Result; r != nil {
		j.Result = &Result{Documents: r.GetDocuments().GetRead(), Written: r.GetDocuments().GetWritten(),
			Rejected: r.GetDocuments().GetRejected(), TokensTrain: r.TokensTrain, TokensVal: r.TokensVal, Sequences: r.Sequences}
	}
	return j
}

// StateName names a job state as the CLI prints it: "running".
func StateName(s pb.JobState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "JOB_STATE_"))
}

// Over says the state is final: succeeded, failed or canceled.
func Over(s pb.JobState) bool {
	switch s {
	case pb.JobState_JOB_STATE_SUCCEEDED, pb.JobState_JOB_STATE_FAILED, pb.JobState_JOB_STATE_CANCELED:
		return true
	}
	return false
}

// WriteJSON writes v as indented JSON and a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteJob prints a job's status as lines of "key  value".
func WriteJob(w io.Writer, j Job) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "job\t%s\n", j.ID)
	fmt.Fprintf(tw, "state\t%s\n", j.State)
	fmt.Fprintf(tw, "submitted\t%s\n", j.Submitted)
	shards := "not planned yet"
	if j.Shards > 0 || j.State != "planning" {
		shards = fmt.Sprintf("%d/%d done", j.ShardsDone, j.Shards)
	}
	fmt.Fprintf(tw, "shards\t%s\n", shards)
	t := j.Tasks
	fmt.Fprintf(tw, "tasks\t%d committed, %d running, %d pending, %d waiting\n", t.Committed, t.Leased, t.Pending, t.Blocked)
	fmt.Fprintf(tw, "attempts\t%d failed or lost (at most %d per task)\n", j.FailedAttempts, j.MaxAttempts)
	p := j.Progress
	fmt.Fprintf(tw, "progress\t%d documents (%d rejected), %d tokens, %s read\n", p.Documents, p.Rejected, p.Tokens, runner.Bytes(p.Bytes))
	if r := j.Result; r != nil {
		fmt.Fprintf(tw, "result\t%d documents written, %d train and %d val tokens, %d sequences\n",
			r.Written, r.TokensTrain, r.TokensVal, r.Sequences)
	}
	if j.Unplaceable != "" {
		fmt.Fprintf(tw, "placement\t%s: its tasks wait for such a worker\n", j.Unplaceable)
	}
	if j.Error != "" {
		fmt.Fprintf(tw, "error\t%s\n", j.Error)
	}
	return tw.Flush()
}

// WriteJobs prints one line per job: id, state, shards, documents, tokens.
func WriteJobs(w io.Writer, jobs []Job) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSHARDS\tDOCUMENTS\tTOKENS\tSUBMITTED")
	for _, j := range jobs {
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%d\t%d\t%s\n", j.ID, j.State, j.ShardsDone, j.Shards,
			j.Progress.Documents, j.Progress.Tokens, j.Submitted)
	}
	return tw.Flush()
}

// ProgressLine is one line of a followed job's progress, in the style of `tokenmill run
// --progress lines`: "tokenmill: job ID: running: 3/10 shards, 1.2MiB read, 900 documents
// (2 rejected), 250000 tokens, 41.2k tok/s", followed by "; waiting: constraint gpu=h100
// matches no alive worker" while no worker can run the job's tasks.
func ProgressLine(st *pb.JobStatus, elapsed time.Duration) string {
	p := st.GetProgress()
	rate := int64(0)
	if s := elapsed.Seconds(); s > 0 {
		rate = int64(float64(p.GetTokens()) / s)
	}
	line := fmt.Sprintf("tokenmill: job %s: %s: %d/%d shards, %s read, %d documents (%d rejected), %d tokens, %s tok/s",
		st.JobId, StateName(st.State), st.ShardsDone, st.Shards, runner.Bytes(p.GetBytes()), p.GetDocuments(),
		p.GetRejected(), p.GetTokens(), runner.Count(rate))
	if st.Unplaceable != "" {
		line += "; waiting: " + st.Unplaceable
	}
	return line
}

// Member is a cluster member as `tokenmill members --json` prints it.
type Member struct {
	ID      string            `json:"id"`
	Role    string            `json:"role"`    // coordinator | worker
	Address string            `json:"address"` // gRPC address
	State   string            `json:"state"`   // alive | dead | left
	Slots   uint32            `json:"slots"`   // workers: tasks run at once
	Busy    uint32            `json:"busy"`    // workers: slots in use
	Tags    map[string]string `json:"tags"`
	Version string            `json:"version"`
	// CooldownUntil is the end of a worker's cool-down under way (RFC 3339, UTC): its
	// attempts kept failing while others' succeeded, and it gets no new task until then.
	CooldownUntil string `json:"cooldown_until,omitempty"`
}

// MembersOf returns the views of members.
func MembersOf(ms []*pb.Member) []Member {
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		tags := m.Tags
		if tags == nil {
			tags = map[string]string{}
		}
		mv := Member{ID: m.Id, Role: m.Role, Address: m.Address, State: m.State, Slots: m.Slots,
			Busy: m.Busy, Tags: tags, Version: m.Version}
		if m.CooldownUntilUnixMs > 0 {
			mv.CooldownUntil = time.UnixMilli(m.CooldownUntilUnixMs).UTC().Format(time.RFC3339)
		}
		out = append(out, mv)
	}
	return out
}

// WriteMembers prints one line per member: id, role, address, state, slots, cool-down, tags.
func WriteMembers(w io.Writer, ms []Member) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tADDRESS\tSTATE\tSLOTS\tCOOLDOWN\tTAGS")
	for _, m := range ms {
		slots := "-"
		if m.Role == "worker" {
			slots = fmt.Sprintf("%d (%d busy)", m.Slots, m.Busy)
		}
		var tags []string
		for _, k := range slices.Sorted(maps.Keys(m.Tags)) {
			tags = append(tags, k+"="+m.Tags[k])
		}
		t := strings.Join(tags, ",")
		if t == "" {
			t = "-"
		}
		cool := "-"
		if m.CooldownUntil != "" {
			cool = "until " + m.CooldownUntil
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Role, m.Address, m.State, slots, cool, t)
	}
	return tw.Flush()
}

// Peer is a raft peer as `tokenmill operator raft list-peers --json` prints it.
type Peer struct {
	ID      string `json:"id"`
	Address string `json:"address"` // raft address
	State   string `json:"state"`   // leader | follower
	Voter   bool   `json:"voter"`
}

// PeersOf returns the views of raft peers.
func PeersOf(ps []*pb.RaftPeer) []Peer {
	out := make([]Peer, 0, len(ps))
	for _, p := range ps {
		out = append(out, Peer{ID: p.Id, Address: p.Address, State: p.State, Voter: p.Voter})
	}
	return out
}

// WritePeers prints one line per raft peer: id, address, state, voter.
func WritePeers(w io.Writer, ps []Peer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tADDRESS\tSTATE\tVOTER")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\n", p.ID, p.Address, p.State, p.Voter)
	}
	return tw.Flush()
}
