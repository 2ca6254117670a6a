package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tokenmill/tokenmill/job"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Client calls one coordinator. It is safe for concurrent use.
type Client struct {
	addr    string
	conn    *grpc.ClientConn
	jobs    pb.JobServiceClient
	cluster pb.ClusterServiceClient
}

// Dial returns a client of the coordinator at addr (host:port of its gRPC server). It does
// not connect yet: the first call does, and a coordinator that does not answer is that
// call's error. opts are the connection's credentials (TLS, a token); none means plain TCP
// without a token.
func Dial(addr string, opts ...grpc.DialOption) (*Client, error) {
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("coordinator address %q: %w", addr, err)
	}
	return &Client{addr: addr, conn: conn, jobs: pb.NewJobServiceClient(conn), cluster: pb.NewClusterServiceClient(conn)}, nil
}

// Addr returns the address the client calls.
func (c *Client) Addr() string { return c.addr }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// LoadJob reads the job file at path for a cluster: it is loaded and validated as `tokenmill
// run` loads it (errors name the file and line), and its bytes are returned with every
// relative path made absolute against the file's directory, so that the workers read the
// files `tokenmill run` of the same file would.
func LoadJob(path string) (spec *job.Spec, b []byte, err error) {
	if spec, err = job.Load(path, nil); err != nil {
		return nil, nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, err
	}
	raw, err := os.ReadFile(abs)
	if err != nil {
		return nil, nil, err
	}
	if b, err = job.ResolveFile(raw, filepath.Dir(abs)); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return spec, b, nil
}

// Submit submits a job file's bytes (LoadJob) and returns the job's id.
func (c *Client) Submit(ctx context.Context, spec []byte) (string, error) {
	r, err := c.jobs.Submit(ctx, &pb.SubmitRequest{Spec: spec})
	if err != nil {
		return "", c.explain(err, "submitting the job")
	}
	return r.JobId, nil
}

// Job returns the status of a job.
func (c *Client) Job(ctx context.Context, id string) (*pb.JobStatus, error) {
	r, err := c.jobs.Get(ctx, &pb.GetRequest{JobId: id})
	if err != nil {
		return nil, c.explain(err, "job "+id)
	}
	return r.Job, nil
}

// Jobs returns every job, in submission order.
func (c *Client) Jobs(ctx context.Context) ([]*pb.JobStatus, error) {
	r, err := c.jobs.List(ctx, &pb.ListRequest{})
	if err != nil {
		return nil, c.explain(err, "listing the jobs")
	}
	return r.Jobs, nil
}

// Cancel cancels a job and returns its status.
func (c *Client) Cancel(ctx context.Context, id string) (*pb.JobStatus, error) {
	r, err := c.jobs.Cancel(ctx, &pb.CancelRequest{JobId: id, Reason: "canceled by tokenmill job cancel"})
	if err != nil {
		return nil, c.explain(err, "canceling job "+id)
	}
	return r.Job, nil
}

// Watch follows a job: it calls f with the job's status now and at each change of state
// or progress until the job is over, and returns the last status. An error of f ends it.
func (c *Client) Watch(ctx context.Context, id string, f func(*pb.JobStatus) error) (*pb.JobStatus, error) {
	stream, err := c.jobs.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		return nil, c.explain(err, "job "+id)
	}
	var last *pb.JobStatus
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if last == nil {
				return nil, fmt.Errorf("job %s: the coordinator at %s ended the watch without a status", id, c.addr)
			}
			return last, nil
		}
		if err != nil {
			return last, c.explain(err, "job "+id)
		}
		last = ev.Job
		if err := f(last); err != nil {
			return last, err
		}
	}
}

// Members returns the cluster's members, sorted by id.
func (c *Client) Members(ctx context.Context) ([]*pb.Member, error) {
	r, err := c.cluster.Members(ctx, &pb.MembersRequest{})
	if err != nil {
		return nil, c.explain(err, "listing the members")
	}
	return r.Members, nil
}

// RaftPeers returns the raft configuration as the coordinator knows it.
func (c *Client) RaftPeers(ctx context.Context) ([]*pb.RaftPeer, error) {
	r, err := c.cluster.RaftPeers(ctx, &pb.RaftPeersRequest{})
	if err != nil {
		return nil, c.explain(err, "listing the raft peers")
	}
	return r.Peers, nil
}

// RemovePeer removes a coordinator from the raft configuration.
func (c *Client) RemovePeer(ctx context.Context, id string) error {
	if _, err := c.cluster.RemovePeer(ctx, &pb.RemovePeerRequest{Id: id}); err != nil {
		return c.explain(err, "removing raft peer "+id)
	}
	return nil
}
