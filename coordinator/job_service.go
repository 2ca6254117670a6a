package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"github.com/tokenmill/tokenmill/job"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// jobService serves the JobService. Every call runs on the leader (followers forward it):
// writes because only the leader commits, reads because the progress of running tasks lives
// in the leader's memory, and so that a job submitted through one coordinator is seen at
// once through any.
type jobService struct {
	pb.UnimplementedJobServiceServer
	n *Node
}

func (s *jobService) Submit(ctx context.Context, req *pb.SubmitRequest) (*pb.SubmitResponse, error) {
	if req.JobId == "" {
		// Named here, before any forwarding, so that retries carry the same id.
		spec, err := checkSpec(req.Spec)
		if err == nil {
			err = checkRoots(s.n.cfg.AllowedRoots, spec)
		}
		if err != nil {
			return nil, toStatus(err)
		}
		req = &pb.SubmitRequest{Spec: req.Spec, JobId: newJobID(spec.Name)}
	}
	return forward(ctx, s.n, req, true, s.submit, pb.NewJobServiceClient, pb.JobServiceClient.Submit)
}

func (s *jobService) submit(_ context.Context, req *pb.SubmitRequest) (*pb.SubmitResponse, error) {
	spec, err := checkSpec(req.Spec)
	if err != nil {
		return nil, err
	}
	if !validJobID(req.JobId) {
		return nil, fmt.Errorf("%w: job id %q: use letters, digits, '.', '_' or '-', at most 160 bytes", ErrBadRequest, req.JobId)
	}
	res, err := s.n.apply(fsm.SubmitJob, &pb.SubmitJobCommand{JobId: req.JobId, Name: spec.Name, Spec: req.Spec,
		MaxAttempts: uint32(spec.MaxAttempts), SubmittedUnixMs: s.n.clock.Now().UnixMilli()})
	if err != nil {
		return nil, err
	}
	if err := res.Err(); err != nil {
		if old, ok := s.n.fsm.JobSpec(req.JobId); ok && errors.Is(err, fsm.ErrJobExists) && string(old) == string(req.Spec) {
			return &pb.SubmitResponse{JobId: req.JobId}, nil // a retry of this submission
		}
		return nil, err
	}
	s.n.log.Info("job submitted", "job", req.JobId)
	return &pb.SubmitResponse{JobId: req.JobId}, nil
}

// checkSpec decodes and validates a submitted job file and refuses relative paths: the
// coordinator has no directory to resolve them against (the CLI makes them absolute).
func checkSpec(b []byte) (*job.Spec, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: the job spec is empty", ErrBadRequest)
	}
	spec, err := job.Decode(b)
	if err == nil {
		err = spec.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: job spec: %w", ErrBadRequest, err)
	}
	rel := spec.RelativePaths()
	if len(rel) > 0 {
		return nil, fmt.Errorf("%w: job spec: relative paths in a cluster job (the coordinator cannot tell what they are relative to; submit with the CLI, which makes them absolute): %s",
			ErrBadRequest, strings.Join(rel, ", "))
	}
	return spec, nil
}

// newJobID returns the job's name and 8 random hex digits.
func newJobID(name string) string {
	var b [4]byte
	rand.Read(b[:])
	return name + "-" + hex.EncodeToString(b[:])
}

func validJobID(id string) bool {
	if id == "" || len(id) > 160 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (s *jobService) Get(ctx context.Context, req *pb.GetRequest) (*pb.GetResponse, error) {
	return forward(ctx, s.n, req, true, s.get, pb.NewJobServiceClient, pb.JobServiceClient.Get)
}

func (s *jobService) get(_ context.Context, req *pb.GetRequest) (*pb.GetResponse, error) {
	st, err := s.n.jobStatus(req.JobId)
	if err != nil {
		return nil, err
	}
	return &pb.GetResponse{Job: st}, nil
}

// jobStatus returns a job's status with the live progress of its running tasks added.
func (n *Node) jobStatus(id string) (*pb.JobStatus, error) {
	st, ok := n.fsm.Job(id)
	if !ok {
		return nil, fmt.Errorf("%w: %q", fsm.ErrUnknownJob, id)
	}
	n.addLive(st)
	return st, nil
}

// addLive adds the running tasks' last reported progress to a status of an active job.
func (n *Node) addLive(st *pb.JobStatus) {
	if !active(st.State) {
		return
	}
	st.Unplaceable = n.sched.unplaceable(st.JobId)
	live := n.sched.progress(st.JobId)
	p := st.Progress
	p.Bytes += live.Bytes
	p.Documents += live.Documents
	p.Rejected += live.Rejected
	p.Tokens += live.Tokens
}

func active(s pb.JobState) bool {
	switch s {
	case pb.JobState_JOB_STATE_PLANNING, pb.JobState_JOB_STATE_RUNNING, pb.JobState_JOB_STATE_FINALIZING:
		return true
	}
	return false
}

func (s *jobService) List(ctx context.Context, req *pb.ListRequest) (*pb.ListResponse, error) {
	return forward(ctx, s.n, req, true, s.list, pb.NewJobServiceClient, pb.JobServiceClient.List)
}

func (s *jobService) list(context.Context, *pb.ListRequest) (*pb.ListResponse, error) {
	jobs := s.n.fsm.Jobs()
	for _, st := range jobs {
		s.n.addLive(st)
	}
	return &pb.ListResponse{Jobs: jobs}, nil
}

func (s *jobService) Cancel(ctx context.Context, req *pb.CancelRequest) (*pb.CancelResponse, error) {
	return forward(ctx, s.n, req, true, s.cancel, pb.NewJobServiceClient, pb.JobServiceClient.Cancel)
}

func (s *jobService) cancel(_ context.Context, req *pb.CancelRequest) (*pb.CancelResponse, error) {
	res, err := s.n.apply(fsm.CancelJob, &pb.CancelJobCommand{JobId: req.JobId, Reason: req.Reason})
	if err != nil {
		return nil, err
	}
	if err := res.Err(); err != nil {
		// A retry of a cancel that was applied finds the job canceled: that is its answer.
		if st, ok := s.n.fsm.Job(req.JobId); !ok || st.State != pb.JobState_JOB_STATE_CANCELED {
			return nil, err
		}
	}
	s.n.sched.forgetJob(req.JobId)
	st, err := s.n.jobStatus(req.JobId)
	if err != nil {
		return nil, err
	}
	s.n.log.Info("job canceled", "job", req.JobId)
	return &pb.CancelResponse{Job: st}, nil
}

// Watch streams a job's status from the leader: the current one, then each change of state
// or progress, until the job is over. A follower relays the leader's stream and, when the
// leader changes, follows the new one.
func (s *jobService) Watch(req *pb.WatchRequest, stream grpc.ServerStreamingServer[pb.JobEvent]) error {
	return forwardStream(stream.Context(), s.n, req, true, stream, s.watch,
		pb.NewJobServiceClient, pb.JobServiceClient.Watch)
}

func (s *jobService) watch(ctx context.Context, req *pb.WatchRequest, send func(*pb.JobEvent) error) error {
	var last *pb.JobStatus
	for {
		wait := s.n.changed.Wait()
		st, err := s.n.jobStatus(req.JobId)
		if err != nil {
			return err
		}
		if !proto.Equal(st, last) {
			if err := send(&pb.JobEvent{Job: st, TimeUnixMs: s.n.clock.Now().UnixMilli()}); err != nil {
				return err
			}
			last = st
		}
		if !active(st.State) {
			return nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.n.ctx.Done():
			return ErrShutdown
		}
	}
}

// jobStateText names a job state as the CLI prints it.
func jobStateText(s pb.JobState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "JOB_STATE_"))
}
