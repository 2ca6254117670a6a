package members

import (
	"errors"
	"fmt"
	"maps"

	"github.com/hashicorp/memberlist"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// Role is what a node does in the cluster.
type Role string

// Roles.
const (
	RoleCoordinator Role = "coordinator"
	RoleWorker      Role = "worker"
)

// metaFormat is the first byte of an encoded Meta: the encoding of what follows. Format 1 is
// a pb.NodeMeta message. A new format gets a new value; Decode refuses the ones it does not
// know rather than guess.
const metaFormat byte = 1

// ErrMeta is returned by Decode for metadata that is not a Meta this binary can read.
var ErrMeta = errors.New("members: bad node metadata")

// Meta is what a node advertises about itself.
type Meta struct {
	Role     Role
	GRPCAddr string // host:port of its gRPC server
	RaftAddr string // coordinators: host:port of the raft transport
	Slots    int    // workers: tasks run at once
	Tags     map[string]string
	Version  string
	// Leaving is set by Agent.Leave just before the node leaves, so that the others tell its
	// leave from a death.
	Leaving bool
}

// Encode returns m as node metadata; it fails if the encoding exceeds memberlist's limit
// (memberlist.MetaMaxSize bytes), naming the size.
func (m Meta) Encode() ([]byte, error) {
	if m.Slots < 0 || int64(m.Slots) > int64(^uint32(0)) {
		return nil, fmt.Errorf("members: slots %d out of range", m.Slots)
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.NodeMeta{Role: string(m.Role),
		GrpcAddress: m.GRPCAddr, RaftAddress: m.RaftAddr, Slots: uint32(m.Slots), Tags: m.Tags, Version: m.Version, Leaving: m.Leaving})
	if err != nil {
		return nil, fmt.Errorf("members: encode metadata: %w", err)
	}
	b := append([]byte{metaFormat}, body...)
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("members: node metadata is %d bytes, more than gossip's %d (fewer or shorter tags?)",
			len(b), memberlist.MetaMaxSize)
	}
	return b, nil
}

// Decode reads metadata made by Encode.
func Decode(b []byte) (Meta, error) {
	if len(b) == 0 {
		return Meta{}, fmt.Errorf("%w: empty", ErrMeta)
	}
	if b[0] != metaFormat {
		return Meta{}, fmt.Errorf("%w: format %d (this binary reads %d)", ErrMeta, b[0], metaFormat)
	}
	var m pb.NodeMeta
	if err := proto.Unmarshal(b[1:], &m); err != nil {
		return Meta{}, fmt.Errorf("%w: %v", ErrMeta, err)
	}
	return Meta{Role: Role(m.Role), GRPCAddr: m.GrpcAddress, RaftAddr: m.RaftAddress, Slots: int(m.Slots),
		Tags: maps.Clone(m.Tags), Version: m.Version, Leaving: m.Leaving}, nil
}
