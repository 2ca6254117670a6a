package coordinator

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"
	"github.com/tokenmill/tokenmill/internal/auth"
	"github.com/tokenmill/tokenmill/internal/members"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// gossipEvents reacts to membership changes: it bootstraps raft (see tryBootstrap), and on
// the leader adds joining coordinators as voters, takes back the leases of workers that
// left and gives those of workers that died a short wait for a heartbeat (workerDied). Until the bootstrap is settled it also looks again every JoinRetry.
func (n *Node) gossipEvents() {
	settled := n.cfg.BootstrapExpect == 0 || n.rp.existing
	tick := time.NewTicker(n.cfg.JoinRetry)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-n.gossip.Events():
			if !ok {
				return
			}
			n.onMember(ev)
		case <-tick.C:
		case <-n.ctx.Done():
			return
		}
		if !settled {
			settled = n.tryBootstrap()
		}
	}
}

// onMember handles one membership event.
func (n *Node) onMember(ev members.Event) {
	m := ev.Member
	n.log.Debug("member event", "event", ev.Kind, "member", m.Name, "role", m.Meta.Role, "state", m.State)
	switch m.Meta.Role {
	case members.RoleCoordinator:
		if ev.Kind != members.EventLeave && n.IsLeader() {
			n.addVoter(m)
		}
	case members.RoleWorker:
		if ev.Kind != members.EventLeave {
			n.sched.workerAlive(m.Name, m.Meta.Tags)
		}
		if ev.Kind == members.EventLeave {
			if m.State == members.StateLeft {
				n.sched.workerGone(m.Name, fmt.Sprintf("worker %s left the cluster", m.Name))
			} else {
				n.sched.workerDied(m.Name, n.clock.Now())
			}
		}
		n.changed.notify() // a job's placement may have changed: Watch sends it again
	}
}

// tryBootstrap bootstraps raft when BootstrapExpect coordinators are alive in gossip and
// none has raft state; it returns true once the question is settled (bootstrapped here or
// elsewhere, or this node was added to a cluster). Every coordinator computes the same
// configuration: all the alive coordinators, sorted by id. One that finds a peer with a raft
// configuration does not bootstrap: the leader adds it.
func (n *Node) tryBootstrap() bool {
	if cf := n.raft.GetConfiguration(); cf.Error() == nil && len(cf.Configuration().Servers) > 0 {
		return true
	}
	coords := n.gossip.Alive(members.RoleCoordinator)
	if len(coords) < n.cfg.BootstrapExpect {
		return false
	}
	var servers []raft.Server
	for _, m := range coords {
		if m.Meta.RaftAddr == "" {
			return false
		}
		if m.Name != n.cfg.ID {
			peers, err := n.peersOf(m.Meta.GRPCAddr)
			if err != nil {
				n.log.Debug("bootstrap: cannot ask a coordinator for its raft peers", "member", m.Name, "err", err)
				return false
			}
			if peers > 0 {
				n.log.Info("bootstrap: the cluster exists; waiting to be added by its leader", "seen_at", m.Name)
				return true
			}
		}
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(m.Name),
			Address: raft.ServerAddress(m.Meta.RaftAddr)})
	}
	slices.SortFunc(servers, func(a, b raft.Server) int { return cmpString(string(a.ID), string(b.ID)) })
	err := n.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error()
	if err != nil && err != raft.ErrCantBootstrap {
		n.log.Error("bootstrap failed", "err", err)
		return false
	}
	n.log.Info("bootstrapped raft", "servers", len(servers))
	return true
}

// peersOf asks the coordinator at addr how many servers its raft configuration has.
func (n *Node) peersOf(addr string) (int, error) {
	cc, err := n.conns.get(addr)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(n.ctx, 2*time.Second)
	defer cancel()
	// With TLS the coordinator's certificate is its credential; without, the people's
	// token, which every coordinator holds.
	if n.cfg.TLS == nil {
		ctx = auth.WithToken(ctx, n.cfg.PersonToken)
	}
	r, err := pb.NewClusterServiceClient(cc).RaftPeers(ctx, &pb.RaftPeersRequest{})
	if err != nil {
		return 0, err
	}
	return len(r.Peers), nil
}

// reconcileVoters adds every coordinator alive in gossip that the raft configuration lacks
// (or has at another address) as a voter. Dead coordinators are not removed: an operator
// removes them (RemovePeer), since a majority of a partitioned cluster must not shrink it.
func (n *Node) reconcileVoters() {
	for _, m := range n.gossip.Alive(members.RoleCoordinator) {
		n.addVoter(m)
	}
}

// addVoter adds a coordinator as a voter if the configuration does not hold it at its raft
// address; for one it holds at another address (this leader included, restarted at another
// IP address), that updates the address.
func (n *Node) addVoter(m members.Member) {
	if m.Meta.RaftAddr == "" {
		return
	}
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return
	}
	for _, s := range cf.Configuration().Servers {
		if string(s.ID) == m.Name && string(s.Address) == m.Meta.RaftAddr && s.Suffrage == raft.Voter {
			return
		}
	}
	if err := n.raft.AddVoter(raft.ServerID(m.Name), raft.ServerAddress(m.Meta.RaftAddr), 0, n.cfg.ApplyTimeout).Error(); err != nil {
		n.log.Warn("adding a coordinator as voter failed", "member", m.Name, "err", err)
		return
	}
	n.log.Info("added a coordinator as voter", "member", m.Name, "raft", m.Meta.RaftAddr)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
