package coordinator

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/hashicorp/raft"
	"github.com/tokenmill/tokenmill/internal/members"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// clusterService serves the ClusterService. RaftPeers answers from this node's copy of the
// raft configuration (replicated, so any node can tell; it also works without a leader).
// Members is asked of the leader, which knows the workers' busy slots from their heartbeats,
// and answered from this node's gossip view when no leader answers in time. RemovePeer runs
// on the leader.
type clusterService struct {
	pb.UnimplementedClusterServiceServer
	n *Node
}

// membersTimeout bounds the wait for the leader's view of the members.
const membersTimeout = 2 * time.Second

func (s *clusterService) Members(ctx context.Context, req *pb.MembersRequest) (*pb.MembersResponse, error) {
	if isForwarded(ctx) || s.n.IsLeader() {
		return s.n.members(), nil
	}
	addr, _, err := s.n.leaderAddr()
	if err == nil {
		conn, cerr := s.n.conns.get(addr)
		if cerr == nil {
			cctx, cancel := context.WithTimeout(ctx, membersTimeout)
			r, err := pb.NewClusterServiceClient(conn).Members(withForwarded(cctx, s.n.cfg.ID), req)
			cancel()
			if err == nil {
				return r, nil
			}
		}
	}
	return s.n.members(), nil
}

// members lists the gossip members as this node sees them, with the busy slots of the
// workers that heartbeat to it when it leads.
func (n *Node) members() *pb.MembersResponse {
	busy := n.sched.busy()
	cooling := n.sched.cooldowns(n.clock.Now())
	var out []*pb.Member
	for _, m := range n.gossip.Members() {
		pm := &pb.Member{Id: m.Name, Role: string(m.Meta.Role), Address: m.Meta.GRPCAddr, State: string(m.State),
			Slots: uint32(m.Meta.Slots), Tags: maps.Clone(m.Meta.Tags), Version: m.Meta.Version}
		if m.MetaErr != nil {
			pm.Role = "unknown"
		}
		if m.Meta.Role == members.RoleWorker {
			pm.Busy = uint32(busy[m.Name])
			if until, ok := cooling[m.Name]; ok {
				pm.CooldownUntilUnixMs = until.UnixMilli()
			}
		}
		out = append(out, pm)
	}
	return &pb.MembersResponse{Members: out}
}

func (s *clusterService) RaftPeers(ctx context.Context, _ *pb.RaftPeersRequest) (*pb.RaftPeersResponse, error) {
	f := s.n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, toStatus(err)
	}
	_, leader := s.n.raft.LeaderWithID()
	var out []*pb.RaftPeer
	for _, srv := range f.Configuration().Servers {
		state := "follower"
		if srv.ID == leader {
			state = "leader"
		}
		out = append(out, &pb.RaftPeer{Id: string(srv.ID), Address: string(srv.Address), State: state,
			Voter: srv.Suffrage == raft.Voter})
	}
	return &pb.RaftPeersResponse{Peers: out}, nil
}

func (s *clusterService) RemovePeer(ctx context.Context, req *pb.RemovePeerRequest) (*pb.RemovePeerResponse, error) {
	return forward(ctx, s.n, req, false, s.removePeer, pb.NewClusterServiceClient, pb.ClusterServiceClient.RemovePeer)
}

func (s *clusterService) removePeer(_ context.Context, req *pb.RemovePeerRequest) (*pb.RemovePeerResponse, error) {
	f := s.n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	found := false
	for _, srv := range f.Configuration().Servers {
		found = found || string(srv.ID) == req.Id
	}
	if !found {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPeer, req.Id)
	}
	if err := s.n.raft.RemoveServer(raft.ServerID(req.Id), 0, s.n.cfg.ApplyTimeout).Error(); err != nil {
		return nil, err
	}
	s.n.log.Info("removed a raft peer", "peer", req.Id)
	return &pb.RemovePeerResponse{}, nil
}
