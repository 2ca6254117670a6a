package members

import (
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Config configures an Agent.
type Config struct {
	// Name is the node's id in the cluster; unique. Required.
	Name string
	// BindAddr is the IP address gossip listens on (TCP and UDP). Required.
	BindAddr string
	// BindPort is the gossip port; 0 lets the system choose one (Agent.Addr tells which).
	BindPort int
	// Meta is what the node advertises.
	Meta Meta
	// SecretKey, when set, encrypts and authenticates gossip (AES-128, -192 or -256: 16,
	// 24 or 32 bytes); a node with another key or none cannot join, and the node logs why.
	SecretKey []byte
	// Gossip is the memberlist configuration to start from (its timings); nil means
	// memberlist.DefaultLANConfig. Name, addresses, delegates and logger are set by the Agent.
	Gossip *memberlist.Config
	// Logger receives memberlist's log lines at their levels; nil discards them.
	Logger *slog.Logger
}

// State is a member's state as gossip sees it.
type State string

// States.
const (
	StateAlive   State = "alive"
	StateSuspect State = "suspect"
	StateDead    State = "dead"
	StateLeft    State = "left"
)

// Member is one node of the gossip cluster.
type Member struct {
	Name  string
	Addr  string // gossip host:port
	State State
	Meta  Meta
	// MetaErr is set when the node's metadata could not be decoded (another format); Meta is
	// then zero.
	MetaErr error
}

// EventKind says what happened to a member.
type EventKind int

// Event kinds.
const (
	// EventJoin: the member joined (or came back).
	EventJoin EventKind = iota + 1
	// EventUpdate: the member changed its metadata.
	EventUpdate
	// EventLeave: the member left, or gossip declared it dead (Member.State says which).
	EventLeave
)

func (k EventKind) String() string {
	switch k {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventLeave:
		return "leave"
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event is a change of membership.
type Event struct {
	Kind   EventKind
	Member Member
}

// Agent is a gossip node.
type Agent struct {
	ml     *memberlist.Memberlist
	meta   []byte
	events chan Event

	mu     sync.Mutex
	queue  []Event
	wake   chan struct{}
	gone   map[string]Member // members that left or died, until they come back
	closed bool
	done   chan struct{}
	pumped chan struct{}
}

// New starts a gossip node; it is alone until Join.
func New(cfg Config) (*Agent, error) {
	if cfg.Name == "" || cfg.BindAddr == "" {
		return nil, errors.New("members: a node needs a name and a bind address")
	}
	meta, err := cfg.Meta.Encode()
	if err != nil {
		return nil, err
	}
	c := cfg.Gossip
	if c == nil {
		c = memberlist.DefaultLANConfig()
	} else {
		cc := *c
		c = &cc
	}
	a := &Agent{meta: meta, events: make(chan Event), wake: make(chan struct{}, 1),
		gone: map[string]Member{}, done: make(chan struct{}), pumped: make(chan struct{})}
	c.Name = cfg.Name
	c.BindAddr = cfg.BindAddr
	c.BindPort = cfg.BindPort
	c.AdvertiseAddr = ""
	c.AdvertisePort = cfg.BindPort
	c.SecretKey = cfg.SecretKey
	c.Delegate = delegate{a}
	c.Events = eventDelegate{a}
	c.LogOutput = nil
	c.Logger = log.New(&logWriter{log: cfg.Logger}, "", 0)
	ml, err := memberlist.Create(c)
	if err != nil {
		return nil, fmt.Errorf("members: start gossip on %s: %w", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.BindPort)), err)
	}
	a.ml = ml
	go a.pump()
	return a, nil
}

// Addr returns the gossip address others join: host:port.
func (a *Agent) Addr() string {
	n := a.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// Name returns the node's name.
func (a *Agent) Name() string { return a.ml.LocalNode().Name }

// Join contacts the nodes at addrs (host:port) and joins their cluster; it succeeds if one
// of them answered.
func (a *Agent) Join(addrs []string) error {
	if len(addrs) == 0 {
		return nil
	}
	if _, err := a.ml.Join(addrs); err != nil {
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "1 error occurred:", "")), " ")
		if strings.Contains(msg, "encrypt") || strings.Contains(msg, "decrypt") {
			msg += " (the gossip keys differ: every coordinator and worker needs the same --gossip-key-file)"
		}
		return fmt.Errorf("members: join %v: %s", addrs, msg)
	}
	return nil
}

// Members returns every member known, alive, suspect, dead or left (this node included),
// sorted by name.
func (a *Agent) Members() []Member {
	var out []Member
	seen := map[string]bool{}
	for _, n := range a.ml.Members() {
		out = append(out, member(n))
		seen[n.Name] = true
	}
	a.mu.Lock()
	for name, m := range a.gone {
		if !seen[name] {
			out = append(out, m)
		}
	}
	a.mu.Unlock()
	slices.SortFunc(out, func(x, y Member) int { return cmpString(x.Name, y.Name) })
	return out
}

// Alive returns the members that are alive or suspect, of role r, sorted by name.
func (a *Agent) Alive(r Role) []Member {
	var out []Member
	for _, m := range a.Members() {
		if (m.State == StateAlive || m.State == StateSuspect) && m.Meta.Role == r {
			out = append(out, m)
		}
	}
	return out
}

// Events returns the channel on which the Agent delivers membership changes, in order,
// until Shutdown closes it. Events not read are kept.
func (a *Agent) Events() <-chan Event { return a.events }

// Leave tells the cluster this node is leaving, waiting up to timeout for it to spread.
func (a *Agent) Leave(timeout time.Duration) error { return a.ml.Leave(timeout) }

// Shutdown stops gossip without leaving (others will find the node dead) and closes the
// events channel. It may be called more than once.
func (a *Agent) Shutdown() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	err := a.ml.Shutdown()
	close(a.done)
	<-a.pumped
	return err
}

// push queues an event for the pump.
func (a *Agent) push(e Event) {
	a.mu.Lock()
	switch e.Kind {
	case EventLeave:
		a.gone[e.Member.Name] = e.Member
	default:
		delete(a.gone, e.Member.Name)
	}
	a.queue = append(a.queue, e)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// pump delivers the queued events on a.events until Shutdown.
func (a *Agent) pump() {
	defer close(a.pumped)
	defer close(a.events)
	for {
		a.mu.Lock()
		var e Event
		ok := len(a.queue) > 0
		if ok {
			e = a.queue[0]
			a.queue = a.queue[1:]
		}
		a.mu.Unlock()
		if !ok {
			select {
			case <-a.wake:
				continue
			case <-a.done:
				return
			}
		}
		select {
		case a.events <- e:
		case <-a.done:
			return
		}
	}
}

func member(n *memberlist.Node) Member {
	m := Member{Name: n.Name, Addr: net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port))), State: state(n.State)}
	m.Meta, m.MetaErr = Decode(n.Meta)
	return m
}

func state(s memberlist.NodeStateType) State {
	switch s {
	case memberlist.StateAlive:
		return StateAlive
	case memberlist.StateSuspect:
		return StateSuspect
	case memberlist.StateLeft:
		return StateLeft
	}
	return StateDead
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

// delegate gives memberlist the node's metadata; the Agent sends no user messages.
type delegate struct{ a *Agent }

func (d delegate) NodeMeta(limit int) []byte {
	if len(d.a.meta) > limit {
		return nil // Encode checked the size against MetaMaxSize
	}
	return d.a.meta
}
func (delegate) NotifyMsg([]byte)                           {}
func (delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (delegate) LocalState(join bool) []byte                { return nil }
func (delegate) MergeRemoteState(buf []byte, join bool)     {}

// eventDelegate turns memberlist's callbacks into queued Events.
type eventDelegate struct{ a *Agent }

func (d eventDelegate) NotifyJoin(n *memberlist.Node) {
	d.a.push(Event{Kind: EventJoin, Member: member(n)})
}
func (d eventDelegate) NotifyUpdate(n *memberlist.Node) {
	d.a.push(Event{Kind: EventUpdate, Member: member(n)})
}

// NotifyLeave reports a member that left or died. memberlist passes the node as it was
// last alive (its state field is not updated before the call), so a member whose state
// does not say left is reported dead.
func (d eventDelegate) NotifyLeave(n *memberlist.Node) {
	m := member(n)
	if m.State != StateLeft {
		m.State = StateDead
	}
	d.a.push(Event{Kind: EventLeave, Member: m})
}
