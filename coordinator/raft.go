package coordinator

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/tokenmill/tokenmill/coordinator/fsm"
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
// on cfg.BindAddr:cfg.RaftPort and starts raft over f. notify receives raft's leadership
// changes.
func openRaft(cfg *Config, f raft.FSM, logger hclog.Logger, notify chan<- bool) (*raftParts, error) {
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
	tc := &raft.NetworkTransportConfig{Logger: logger.Named("transport"), MaxPool: 3, Timeout: 10 * time.Second}
	if cfg.TLS != nil {
		if tc.Stream, err = newTLSStreamLayer(bind, cfg.TLS); err != nil {
			return nil, fmt.Errorf("coordinator: raft transport on %s: %w", bind, err)
		}
		p.trans = raft.NewNetworkTransportWithConfig(tc)
	} else if p.trans, err = raft.NewTCPTransportWithConfig(bind, nil, tc); err != nil {
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
