package coordinator

import (
	"context"
	"sync"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// raftCommands is the scheduler's commandLog on a Node: every command goes through raft
// (Node.apply); grants, commits and failures go through a batcher each, so that concurrent
// requests share entries.
type raftCommands struct {
	n       *Node
	grants  *batcher[*pb.Grant]
	commits *batcher[*pb.TaskCommit]
	fails   *batcher[*pb.TaskFailure]
}

func newRaftCommands(n *Node) *raftCommands {
	return &raftCommands{
		n: n,
		grants: newBatcher(n.cfg.BatchMax, n.cfg.BatchWindow, func(g []*pb.Grant) (*fsm.Result, error) {
			return n.apply(fsm.GrantLeases, &pb.GrantCommand{Grants: g})
		}),
		commits: newBatcher(n.cfg.BatchMax, n.cfg.BatchWindow, func(c []*pb.TaskCommit) (*fsm.Result, error) {
			return n.apply(fsm.CommitTasks, &pb.CommitCommand{Commits: c})
		}),
		fails: newBatcher(n.cfg.BatchMax, n.cfg.BatchWindow, func(f []*pb.TaskFailure) (*fsm.Result, error) {
			return n.apply(fsm.FailTasks, &pb.FailCommand{Failures: f})
		}),
	}
}

// run runs the batchers until ctx ends (the node's life).
func (r *raftCommands) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, run := range []func(context.Context){r.grants.run, r.commits.run, r.fails.run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx)
		}()
	}
}

func (r *raftCommands) apply(t fsm.CommandType, m proto.Message) (*fsm.Result, error) {
	return r.n.apply(t, m)
}

func (r *raftCommands) grant(ctx context.Context, g []*pb.Grant) batchResult {
	return r.grants.submit(ctx, g)
}

func (r *raftCommands) commit(ctx context.Context, c []*pb.TaskCommit) batchResult {
	return r.commits.submit(ctx, c)
}

func (r *raftCommands) fail(ctx context.Context, f []*pb.TaskFailure) batchResult {
	return r.fails.submit(ctx, f)
}
