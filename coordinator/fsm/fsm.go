package fsm

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"
)

// FSM is the replicated state. It implements raft.FSM. The zero value is not ready: use New.
type FSM struct {
	mu sync.RWMutex
	st *state
}

var _ raft.FSM = (*FSM)(nil)

// state is what the log builds. Every field is derived from the applied commands.
type state struct {
	jobs     map[string]*job
	order    []*job // submission order
	byWorker map[string]map[TaskRef]struct{}
	unclean  map[string]*job // the jobs that need a cleanup (job.needsCleanup)
	index    uint64          // the last applied entry
}

func newState() *state {
	return &state{jobs: map[string]*job{}, byWorker: map[string]map[TaskRef]struct{}{}, unclean: map[string]*job{}}
}

// New returns an empty FSM.
func New() *FSM { return &FSM{st: newState()} }

// Result is the response of an applied command: one error per item of the command (one for a
// single command), nil where the item was applied. Index is the entry's raft index: the epoch
// of the leases a grant made.
type Result struct {
	Index uint64
	Errs  []error
}

// Err joins the refusals, or returns nil when every item was applied.
func (r *Result) Err() error { return errors.Join(r.Errs...) }

// Apply applies a committed raft log entry and returns its *Result. It panics on an entry it
// cannot apply (see FatalError): the replica must stop rather than diverge.
func (f *FSM) Apply(l *raft.Log) any {
	res, err := f.ApplyCommand(l.Index, l.Data)
	if err != nil {
		panic(err)
	}
	return res
}

// ApplyCommand applies the log entry data at index. It returns a *FatalError for an entry
// that cannot be applied; refusals are in the Result.
func (f *FSM) ApplyCommand(index uint64, data []byte) (*Result, error) {
	if len(data) < 2 {
		return nil, &FatalError{Index: index, Err: fmt.Errorf("entry of %d bytes has no type and version", len(data))}
	}
	t, v, body := CommandType(data[0]), data[1], data[2:]
	ignorable := t&IgnoreUnknown != 0
	t &^= IgnoreUnknown
	f.mu.Lock()
	defer f.mu.Unlock()
	if cur, ok := commandVersion(t); !ok || v == 0 || v > cur {
		if ignorable {
			f.st.index = index
			return &Result{Index: index}, nil
		}
		return nil, &FatalError{Index: index, Type: t, Err: fmt.Errorf("unknown command type %d version %d", uint8(t), v)}
	}
	st := f.st
	var res *Result
	var err error
	switch t {
	case SubmitJob:
		res, err = apply(index, body, st.submit)
	case CancelJob:
		res, err = apply(index, body, st.cancel)
	case GrantLeases:
		res, err = apply(index, body, st.grant)
	case ExpireLeases:
		res, err = apply(index, body, st.expire)
	case CommitTasks:
		res, err = apply(index, body, st.commit)
	case FailTasks:
		res, err = apply(index, body, st.fail)
	case AppendPlan:
		res, err = apply(index, body, st.appendPlan)
	case CleanJobs:
		res, err = apply(index, body, st.clean)
	case SpeculateLeases:
		res, err = apply(index, body, st.speculate)
	}
	if err != nil {
		return nil, &FatalError{Index: index, Type: t, Err: err}
	}
	st.index = index
	res.Index = index
	return res, nil
}

// apply decodes body as an M and applies it with fn.
func apply[M any, P interface {
	*M
	proto.Message
}](index uint64, body []byte, fn func(uint64, P) []error) (*Result, error) {
	var m M
	if err := proto.Unmarshal(body, P(&m)); err != nil {
		return nil, err
	}
	return &Result{Errs: fn(index, P(&m))}, nil
}

// Index returns the index of the last applied entry.
func (f *FSM) Index() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.index
}

// Restore replaces the state with a snapshot's (see Persist).
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st, err := readSnapshot(rc)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.st = st
	f.mu.Unlock()
	return nil
}
