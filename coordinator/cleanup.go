package coordinator

import (
	"slices"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// maxCleanupOrders bounds the cleanup orders of one heartbeat response.
const maxCleanupOrders = 8

// cleanupOrder is the leader's memory of a cleanup order given to a worker: the staged
// files of a failed or canceled job are to be removed. Coordinators cannot reach the data,
// so a worker removes them, and its heartbeat reports the cleanup running, then done.
type cleanupOrder struct {
	worker string
	hb     uint64 // the worker's heartbeat count when the order went out
}

// cleanups runs the cleanup side of a heartbeat, whose count is hb: the jobs the worker
// reports cleaned are recorded through raft; an order the worker neither runs nor finished
// by its next heartbeat is forgotten (it restarted), to be given again; then the worker is
// ordered to clean up failed or canceled jobs that are not cleaned, no one else is cleaning,
// and of which no worker reported a running task in its last heartbeat or was granted one in
// the answer to it (their tasks were told to stop and have stopped, and no grant is on its
// way to start one). An error of the raft entry fails the heartbeat: the
// worker reports the same jobs again in the next one.
func (s *scheduler) cleanups(req *pb.HeartbeatRequest, hb uint64) ([]*pb.CleanupOrder, error) {
	id := req.GetWorkerId()
	if len(req.Cleaned) > 0 {
		res, err := s.cmds.apply(fsm.CleanJobs, &pb.CleanJobsCommand{JobIds: req.Cleaned})
		if err != nil {
			return nil, err
		}
		if err := res.Err(); err != nil {
			s.log.Warn("cleanups refused", "worker", id, "err", err)
		}
	}
	unclean := s.state.Unclean()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.active {
		return nil, ErrNotLeader
	}
	for job, o := range s.cleaning {
		if o.worker == id && (slices.Contains(req.Cleaned, job) || o.hb < hb && !slices.Contains(req.Cleaning, job)) {
			delete(s.cleaning, job)
		}
	}
	var out []*pb.CleanupOrder
	for _, job := range unclean {
		if len(out) == maxCleanupOrders {
			break
		}
		if _, ordered := s.cleaning[job]; ordered || slices.Contains(req.Cleaned, job) || s.runningLocked(job) {
			continue
		}
		spec, ok := s.state.JobSpec(job)
		if !ok {
			continue
		}
		s.cleaning[job] = cleanupOrder{worker: id, hb: hb}
		out = append(out, &pb.CleanupOrder{JobId: job, JobSpec: spec})
	}
	return out, nil
}

// runningLocked says a worker listed a task of job in its last heartbeat, or was granted one
// in the answer to it. s.mu is held.
func (s *scheduler) runningLocked(job string) bool {
	for _, w := range s.workers {
		if w.jobs[job] {
			return true
		}
	}
	return false
}

// dropCleanupsLocked forgets the cleanup orders given to a worker that is gone, so that
// others get them. s.mu is held.
func (s *scheduler) dropCleanupsLocked(worker string) {
	for job, o := range s.cleaning {
		if o.worker == worker {
			delete(s.cleaning, job)
		}
	}
}
