package coordinator

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"github.com/tokenmill/tokenmill/job"
)

// Placement: which worker may run, and which should run, a job's tasks.
//
// Constraints (the job key constraints) are hard: a job's tasks are granted only to workers
// whose gossip tags satisfy all of them. The tags are those gossip last announced for each
// alive worker (workerAlive); a worker whose tags are not known yet has none.
//
// Affinity is soft: the leader remembers, for each tokenizer (the job's tokenizer string),
// the workers it granted a task of a job with that tokenizer to, and forgets a worker when
// gossip declares it gone (its process, and so its tokenizer cache, may be new). A worker
// asking for tasks takes first, in the fair order, the jobs it is warm for or that no alive
// worker is warm for; the jobs warm on other workers only come after, so a worker with free
// slots is never left idle while a task it may run is pending. The memory is the leader's
// own guess of the workers' caches (a worker keeps its last few tokenizers): a wrong guess
// costs a tokenizer load, never a result.

// jobPlacement is what the scheduler needs of a job's spec, decoded once.
type jobPlacement struct {
	constraints []job.Constraint
	tokenizer   string // "" for jobs without a tokenizer: no affinity
}

// placementOfLocked returns the placement of job id, whose spec is spec, decoding it on
// first use; it does not call the state (PendingWhere calls it under the state's lock). A
// spec that does not decode (it was validated at submission) places anywhere. s.mu is held.
func (s *scheduler) placementOfLocked(id string, spec []byte) *jobPlacement {
	if p := s.jobs[id]; p != nil {
		return p
	}
	p := &jobPlacement{}
	if sp, err := job.Decode(spec); err == nil && sp != nil {
		p.constraints, p.tokenizer = sp.Constraints, sp.Tokenizer
	}
	if s.jobs == nil {
		s.jobs = map[string]*jobPlacement{}
	}
	s.jobs[id] = p
	return p
}

// canRunLocked says worker may run the tasks of job id (spec as submitted): its tags
// satisfy the job's constraints. s.mu is held.
func (s *scheduler) canRunLocked(worker, id string, spec []byte) bool {
	return job.MatchesAll(s.placementOfLocked(id, spec).constraints, s.tags[worker])
}

// warmElsewhereLocked says another alive worker is warm for the tokenizer of job id and
// this one is not. s.mu is held.
func (s *scheduler) warmElsewhereLocked(worker, id string, spec []byte) bool {
	tk := s.placementOfLocked(id, spec).tokenizer
	if tk == "" {
		return false
	}
	warm := s.warm[tk]
	return len(warm) > 0 && !warm[worker]
}

// warmLocked records that worker was granted a task of job id. s.mu is held.
func (s *scheduler) warmLocked(worker, id string) {
	p := s.jobs[id]
	if p == nil {
		return
	}
	tk := p.tokenizer
	if tk == "" {
		return
	}
	if s.warm[tk] == nil {
		s.warm[tk] = map[string]bool{}
	}
	s.warm[tk][worker] = true
}

// unplaceable says why no alive worker can run the job's tasks: the first constraint that
// no alive worker satisfies, or that none satisfies them all. It returns "" when one can,
// or when the job has no constraints.
func (s *scheduler) unplaceable(id string) string {
	spec, ok := s.state.JobSpec(id)
	if !ok {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.placementOfLocked(id, spec).constraints
	if len(cs) == 0 {
		return ""
	}
	workers := slices.Sorted(maps.Keys(s.tags))
	for _, c := range cs {
		if !slices.ContainsFunc(workers, func(w string) bool { return c.Matches(s.tags[w]) }) {
			return fmt.Sprintf("constraint %s matches no alive worker", c)
		}
	}
	if !slices.ContainsFunc(workers, func(w string) bool { return job.MatchesAll(cs, s.tags[w]) }) {
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = c.String()
		}
		return fmt.Sprintf("no alive worker matches all of %s", strings.Join(names, ", "))
	}
	return ""
}

// pruneJobsLocked forgets the placement of jobs that are no longer active, once the memory
// holds more than a few. s.mu is held.
func (s *scheduler) pruneJobsLocked() {
	if len(s.jobs) < 64 {
		return
	}
	for id := range s.jobs {
		if st, ok := s.state.Job(id); !ok || !active(st.State) {
			delete(s.jobs, id)
		}
	}
}

// placementFor says whether worker may run job id's tasks, and whether they come after
// others' for it (the job is warm on another worker and not on it).
func (s *scheduler) placementFor(worker, id string) (ok, later bool) {
	spec, found := s.state.JobSpec(id)
	if !found {
		return false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.canRunLocked(worker, id, spec), s.warmElsewhereLocked(worker, id, spec)
}

// Retry elsewhere: an attempt that failed with ERROR (a full disk, an I/O error) most likely
// failed because of its machine, and a worker whose attempt failed is free at once and the
// first to ask for work again. So the leader remembers, per task, the worker its last
// attempt failed on with ERROR, and does not grant the task to it again while another alive
// worker that is not cooling down may run the job; with no such worker the task goes back
// to it. The memory is the leader's, forgotten at the task's commit and the job's end.

// failedOnWorker records that the last attempt of ref failed on worker with ERROR.
func (s *scheduler) failedOnWorker(ref fsm.TaskRef, worker string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active {
		s.failedOn[ref] = worker
	}
}

// avoidLocked says worker should not get ref at now: ref's last attempt failed on it, and
// another alive worker, not cooling down, may run ref's job (whose placement PendingWhere's
// jobOK decoded first). s.mu is held.
func (s *scheduler) avoidLocked(worker string, ref fsm.TaskRef, now time.Time) bool {
	if s.failedOn[ref] != worker {
		return false
	}
	var cs []job.Constraint
	if p := s.jobs[ref.Job]; p != nil {
		cs = p.constraints
	}
	for w, tags := range s.tags {
		if w != worker && !s.down[w] && !s.coolingLocked(w, now) && job.MatchesAll(cs, tags) {
			return true
		}
	}
	return false
}

// avoided returns the tasks worker is not granted at now because their last attempt failed
// on it (avoidLocked).
func (s *scheduler) avoided(worker string, now time.Time) map[fsm.TaskRef]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[fsm.TaskRef]bool{}
	for ref, w := range s.failedOn {
		if w == worker && s.avoidLocked(worker, ref, now) {
			out[ref] = true
		}
	}
	return out
}
