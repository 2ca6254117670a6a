package fsm

import (
	"fmt"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// speculate grants each speculation of the command: a backup lease on a leased shard task,
// whose epoch is index, running the task's next attempt on another worker. Each is fenced by
// the epoch of the task's lease, which must be current; a task has at most one backup.
func (st *state) speculate(index uint64, c *pb.SpeculateCommand) []error {
	errs := make([]error, len(c.Speculations))
	for i, s := range c.Speculations {
		errs[i] = st.speculateOne(index, s)
	}
	return errs
}

func (st *state) speculateOne(index uint64, s *pb.Speculation) error {
	if s.WorkerId == "" {
		return fmt.Errorf("%w: speculation of %s names no worker", ErrBadCommand, RefOf(s.Task))
	}
	j, t, backup, err := st.leased(s.Task, s.Epoch)
	if err != nil {
		return err
	}
	switch {
	case t.kind != pb.TaskKind_TASK_KIND_SHARD:
		return fmt.Errorf("%w: %s: only shard tasks run speculative attempts", ErrBadCommand, j.ref(t))
	case backup || t.backup.held():
		return fmt.Errorf("%w: %s", ErrSpeculating, j.ref(t))
	case s.WorkerId == t.lease.Worker:
		return fmt.Errorf("%w: %s: the speculative attempt would run on worker %s, which runs the task",
			ErrBadCommand, j.ref(t), s.WorkerId)
	}
	t.backupAttempt = t.nextAttempt()
	t.lastAttempt = t.backupAttempt
	t.backup = Lease{Worker: s.WorkerId, Epoch: index, DeadlineUnixMS: s.DeadlineUnixMs}
	st.track(s.WorkerId, j.ref(t))
	return nil
}
