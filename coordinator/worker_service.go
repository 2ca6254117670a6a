package coordinator

import (
	"context"
	"fmt"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc"
)

// workerService serves the WorkerService. Every call runs on the leader, which holds the
// leases in memory; followers forward. Heartbeat, AppendPlan and Fail are forwarded again
// only when the first attempt certainly did nothing (the worker retries otherwise): a second
// heartbeat would grant again, a second plan batch would be out of order. Commit is retried,
// since a repeated commit of the winning result succeeds.
type workerService struct {
	pb.UnimplementedWorkerServiceServer
	n *Node
}

func (s *workerService) Heartbeat(ctx context.Context, req *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	return forward(ctx, s.n, req, false, s.heartbeat, pb.NewWorkerServiceClient, pb.WorkerServiceClient.Heartbeat)
}

// heartbeat serves a heartbeat on this node's scheduler at the node's clock's time.
func (s *workerService) heartbeat(ctx context.Context, req *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	return s.n.sched.heartbeat(ctx, req, s.n.clock.Now())
}

func (s *workerService) AppendPlan(ctx context.Context, req *pb.AppendPlanRequest) (*pb.AppendPlanResponse, error) {
	return forward(ctx, s.n, req, false, s.appendPlan, pb.NewWorkerServiceClient, pb.WorkerServiceClient.AppendPlan)
}

func (s *workerService) appendPlan(_ context.Context, req *pb.AppendPlanRequest) (*pb.AppendPlanResponse, error) {
	if req.Task == nil {
		return nil, fmt.Errorf("%w: a plan batch names its plan task", ErrBadRequest)
	}
	res, err := s.n.apply(fsm.AppendPlan, &pb.AppendPlanCommand{Task: req.Task, Epoch: req.Epoch,
		FirstIndex: req.FirstIndex, Specs: req.ShardSpecs})
	if err != nil {
		return nil, err
	}
	return &pb.AppendPlanResponse{}, res.Err()
}

func (s *workerService) Commit(ctx context.Context, req *pb.CommitRequest) (*pb.CommitResponse, error) {
	return forward(ctx, s.n, req, true, s.commit, pb.NewWorkerServiceClient, pb.WorkerServiceClient.Commit)
}

func (s *workerService) commit(ctx context.Context, req *pb.CommitRequest) (*pb.CommitResponse, error) {
	if req.Commit.GetTask() == nil {
		return nil, fmt.Errorf("%w: a commit names its task", ErrBadRequest)
	}
	if err := s.n.sched.commit(ctx, req.Commit, s.n.clock.Now()); err != nil {
		return nil, err
	}
	return &pb.CommitResponse{}, nil
}

func (s *workerService) Fail(ctx context.Context, req *pb.FailRequest) (*pb.FailResponse, error) {
	return forward(ctx, s.n, req, false, s.fail, pb.NewWorkerServiceClient, pb.WorkerServiceClient.Fail)
}

func (s *workerService) fail(ctx context.Context, req *pb.FailRequest) (*pb.FailResponse, error) {
	if req.Failure.GetTask() == nil {
		return nil, fmt.Errorf("%w: a failure names its task", ErrBadRequest)
	}
	if err := s.n.sched.fail(ctx, req.Failure, s.n.clock.Now()); err != nil {
		return nil, err
	}
	return &pb.FailResponse{}, nil
}

// shardResultsChunk is the number of results per message of ShardResults.
const shardResultsChunk = 512

func (s *workerService) ShardResults(req *pb.ShardResultsRequest, stream grpc.ServerStreamingServer[pb.ShardResultsChunk]) error {
	return forwardStream(stream.Context(), s.n, req, false, stream, s.shardResults,
		pb.NewWorkerServiceClient, pb.WorkerServiceClient.ShardResults)
}

// shardResults streams the committed results of the job of a finalize task that the
// caller's lease (epoch) holds.
func (s *workerService) shardResults(ctx context.Context, req *pb.ShardResultsRequest, send func(*pb.ShardResultsChunk) error) error {
	ref := fsm.RefOf(req.Task)
	if ref.Kind != pb.TaskKind_TASK_KIND_FINALIZE {
		return fmt.Errorf("%w: shard results are for a finalize task, not %s", ErrBadRequest, ref)
	}
	info, ok := s.n.fsm.Task(ref)
	if !ok {
		return fmt.Errorf("%w: %s", fsm.ErrUnknownTask, ref)
	}
	if info.State != pb.TaskState_TASK_STATE_LEASED || info.Lease.Epoch != req.Epoch {
		return fmt.Errorf("%w: %s: epoch %d, current lease %d", fsm.ErrStaleEpoch, ref, req.Epoch, info.Lease.Epoch)
	}
	st, _ := s.n.fsm.Job(ref.Job)
	for from := 0; from < int(st.Shards); from += shardResultsChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		rs := s.n.fsm.ShardResults(ref.Job, from, shardResultsChunk)
		if err := send(&pb.ShardResultsChunk{FirstIndex: uint32(from), Results: rs}); err != nil {
			return err
		}
	}
	return nil
}
