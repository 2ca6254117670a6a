package coordinator

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"github.com/tokenmill/tokenmill/internal/members"
)

// raftParts are the pieces of a raft node that must be closed after raft shuts down.
type raftParts struct {
	raft  *raft.Raft
	trans *raft.NetworkTransport
	store *raftboltdb.BoltStore
	snaps *raft.FileSnapshotStore
	// existing says the data directory held raft state when the node started.
	existing bool
}

// openRaft opens the stores under cfg.DataDir (raft.db, snapshots/), binds the TCP transport
// on cfg.BindAddr:cfg.RaftPort (advertised at cfg.AdvertiseAddr; it dials the peers at the
// addresses addrs gives) and starts raft over f. notify receives raft's leadership
// changes.
func openRaft(cfg *Config, f raft.FSM, logger hclog.Logger, notify chan<- bool, addrs raft.ServerAddressProvider) (*raftParts, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("coordinator: data directory: %w", err)
	}
	p := &raftParts{}
	ok := false
	defer func() {
		if !ok {
			p.close()
		}
	}()
	var err error
	path := filepath.Join(cfg.DataDir, "raft.db")
	if p.store, err = raftboltdb.New(raftboltdb.Options{Path: path}); err != nil {
		return nil, fmt.Errorf("coordinator: open raft store %s: %w", path, err)
	}
	if p.snaps, err = raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, cfg.SnapshotsRetained, logger.Named("snapshots")); err != nil {
		return nil, fmt.Errorf("coordinator: open snapshots in %s: %w", cfg.DataDir, err)
	}
	if p.existing, err = raft.HasExistingState(p.store, p.store, p.snaps); err != nil {
		return nil, fmt.Errorf("coordinator: read raft state in %s: %w", cfg.DataDir, err)
	}
	bind := net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.RaftPort))
	var advertise net.Addr
	if cfg.AdvertiseAddr != cfg.BindAddr {
		advertise = &net.TCPAddr{IP: net.ParseIP(cfg.AdvertiseAddr), Port: cfg.RaftPort}
	}
	tc := &raft.NetworkTransportConfig{Logger: logger.Named("transport"), MaxPool: 3, Timeout: 10 * time.Second,
		ServerAddressProvider: addrs}
	if cfg.TLS != nil {
		if tc.Stream, err = newTLSStreamLayer(bind, advertise, cfg.TLS); err != nil {
			return nil, fmt.Errorf("coordinator: raft transport on %s: %w", bind, err)
		}
		p.trans = raft.NewNetworkTransportWithConfig(tc)
	} else if p.trans, err = raft.NewTCPTransportWithConfig(bind, advertise, tc); err != nil {
		return nil, fmt.Errorf("coordinator: raft transport on %s: %w", bind, err)
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.Logger = logger
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.NotifyCh = notify
	if p.raft, err = raft.NewRaft(rc, f, p.store, p.store, p.snaps, p.trans); err != nil {
		return nil, fmt.Errorf("coordinator: start raft: %w", err)
	}
	ok = true
	return p, nil
}

// gossipAddrs gives raft the address of a peer from gossip: the raft address that the
// coordinator with the peer's id advertises (its latest incarnation, alive or not). A
// coordinator that restarts at another IP address (a container's address changes) is then
// reached there before, or without, a configuration change: after every coordinator
// restarted, no configuration holds a right address. A peer gossip does not know is dialled
// at its configured address.
type gossipAddrs struct {
	agent atomic.Pointer[members.Agent] // nil until gossip starts
}

func (g *gossipAddrs) ServerAddr(id raft.ServerID) (raft.ServerAddress, error) {
	a := g.agent.Load()
	if a == nil {
		return "", errors.New("gossip has not started")
	}
	for _, m := range a.Members() {
		if m.Name == string(id) && m.Meta.Role == members.RoleCoordinator && m.Meta.RaftAddr != "" {
			return raft.ServerAddress(m.Meta.RaftAddr), nil
		}
	}
	return "", fmt.Errorf("gossip knows no coordinator %s", id)
}

// close shuts raft down, then closes the transport and the store.
func (p *raftParts) close() error {
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	if p.raft != nil {
		keep(p.raft.Shutdown().Error())
	}
	if p.trans != nil {
		// CloseStreams closes the outgoing connections, so that the peers' handlers of
		// them end; Close stops the listener.
		p.trans.CloseStreams()
		keep(p.trans.Close())
	}
	if p.store != nil {
		keep(p.store.Close())
	}
	return first
}

// watchedFSM is the FSM raft applies to: it tells the node's watchers after each change.
type watchedFSM struct {
	*fsm.FSM
	changed *notifier
}

func (w watchedFSM) Apply(l *raft.Log) any {
	r := w.FSM.Apply(l)
	w.changed.notify()
	return r
}

func (w watchedFSM) Restore(rc io.ReadCloser) error {
	err := w.FSM.Restore(rc)
	w.changed.notify()
	return err
}
