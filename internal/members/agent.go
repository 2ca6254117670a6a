package members

import (
	"errors"
	"fmt"
	"io"
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
	// AdvertiseAddr is the IP address other nodes reach this one at; "" means BindAddr, or
	// the private address memberlist picks when BindAddr is 0.0.0.0 (see AdvertiseIP).
	AdvertiseAddr string
	// Meta is what the node advertises.
	Meta Meta
	// SecretKey, when set, encrypts and authenticates gossip (AES-128, -192 or -256: 16,
	// 24 or 32 bytes); a node with another key or none cannot join, and the node logs why.
	SecretKey []byte
	// Gossip is the memberlist configuration to start from (its timings); nil means
	// DefaultGossip. Name, addresses, delegates and logger are set by the Agent, and a
	// DeadNodeReclaimTime of 0 becomes DeadNodeReclaimTime.
	Gossip *memberlist.Config
	// Logger receives memberlist's log lines at their levels; nil discards them.
	Logger *slog.Logger
}

// DeadNodeReclaimTime is how long a member must have been dead before a node of the same name
// at another address replaces it. memberlist's default (0: never) would refuse forever a node
// restarted at a new IP address (a container's address changes when it restarts) as a
// conflict with its dead self.
const DeadNodeReclaimTime = time.Second

// State is a member's state as gossip sees it.
type State string

// States. memberlist reports no event when it suspects a node, so a member is alive until
// gossip declares it dead.
const (
	StateAlive State = "alive"
	// StateDead: gossip declared the member dead (it stopped answering, or crashed).
	StateDead State = "dead"
	// StateLeft: the member left on purpose (Agent.Leave).
	StateLeft State = "left"
)

// DefaultGossip returns the gossip timings of coordinators and workers: memberlist's LAN
// configuration, probing every 500 ms (a probe times out after 250 ms), with a suspicion
// timeout that does not start longer while other members have not confirmed the suspicion
// (SuspicionMaxTimeoutMult 1): SuspicionMult x ProbeInterval x max(1, log10(members)), so
// 2 s up to 10 members and 4 s at 100. The coordinators take a worker's leases back when
// gossip declares it dead and no heartbeat follows, so these timings bound how soon its
// tasks run elsewhere.
func DefaultGossip() *memberlist.Config {
	c := memberlist.DefaultLANConfig()
	c.ProbeInterval = 500 * time.Millisecond
	c.ProbeTimeout = 250 * time.Millisecond
	c.SuspicionMult = 4
	c.SuspicionMaxTimeoutMult = 1
	return c
}

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
	// EventLeave: the member left (Member.State is StateLeft), or gossip declared it dead
	// (StateDead).
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

// Agent is a gossip node. It keeps every member it has heard of with the state its
// membership events gave it, since memberlist's Node.State is never set for others.
type Agent struct {
	ml     *memberlist.Memberlist
	events chan Event

	mu    sync.Mutex
	meta  Meta   // what this node advertises
	enc   []byte // meta, encoded
	known map[string]Member
	// leaving holds the members that said they leave (a leave message), until they join again.
	leaving map[string]bool
	queue   []Event
	wake    chan struct{}
	closed  bool
	done    chan struct{}
	pumped  chan struct{}
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
		c = DefaultGossip()
	} else {
		cc := *c
		c = &cc
	}
	a := &Agent{meta: cfg.Meta, enc: meta, events: make(chan Event), wake: make(chan struct{}, 1),
		known: map[string]Member{}, leaving: map[string]bool{}, done: make(chan struct{}), pumped: make(chan struct{})}
	c.Name = cfg.Name
	if c.DeadNodeReclaimTime == 0 {
		c.DeadNodeReclaimTime = DeadNodeReclaimTime
	}
	c.BindAddr = cfg.BindAddr
	c.BindPort = cfg.BindPort
	c.AdvertiseAddr = cfg.AdvertiseAddr
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

// AdvertiseIP returns the IP address that a node bound to bind is reached at: bind itself
// when it is a concrete address, else the private address memberlist picks for a node bound
// to 0.0.0.0 (the address of an interface with a default route).
func AdvertiseIP(bind string) (string, error) {
	ip := net.ParseIP(bind)
	if ip == nil {
		return "", fmt.Errorf("members: bind address %q is not an IP address", bind)
	}
	if !ip.IsUnspecified() {
		return bind, nil
	}
	t, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{"0.0.0.0"},
		Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		return "", fmt.Errorf("members: find the address to advertise: %w", err)
	}
	defer t.Shutdown()
	adv, _, err := t.FinalAdvertiseAddr("", 0)
	if err != nil {
		return "", fmt.Errorf("members: find the address to advertise: %w", err)
	}
	return adv.String(), nil
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

// Members returns every member known, alive, dead or left (this node included), sorted by
// name.
func (a *Agent) Members() []Member {
	a.mu.Lock()
	out := make([]Member, 0, len(a.known))
	for _, m := range a.known {
		out = append(out, m)
	}
	a.mu.Unlock()
	slices.SortFunc(out, func(x, y Member) int { return cmpString(x.Name, y.Name) })
	return out
}

// Alive returns the members that are alive, of role r, sorted by name.
func (a *Agent) Alive(r Role) []Member {
	var out []Member
	for _, m := range a.Members() {
		if m.State == StateAlive && m.Meta.Role == r {
			out = append(out, m)
		}
	}
	return out
}

// Events returns the channel on which the Agent delivers membership changes, in order,
// until Shutdown closes it. Events not read are kept.
func (a *Agent) Events() <-chan Event { return a.events }

// msgLeaving is the type byte of the message a leaving node sends every member; the node's
// name follows.
const msgLeaving byte = 1

// Leave tells the cluster this node is leaving on purpose, so that the others record it as
// left, not dead (memberlist's leave reaches them as a death like any other). It advertises
// its metadata with Leaving set, which gossip spreads (and push-pull gives to any member
// that missed it), sends the same word directly to every alive member, coordinators first,
// over TCP (so that a member does not see the death before the gossip of the new metadata),
// then leaves. Each of the three steps takes up to timeout; the leave happens whatever the
// first two did, and the error joins what went wrong.
func (a *Agent) Leave(timeout time.Duration) error {
	a.mu.Lock()
	m := a.meta
	m.Leaving = true
	enc, err := m.Encode()
	if err == nil {
		a.meta, a.enc = m, enc
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	var errs []error
	if err := a.ml.UpdateNode(timeout); err != nil {
		errs = append(errs, fmt.Errorf("members: advertising the leave: %w", err))
	}
	if err := a.sendLeaving(time.Now().Add(timeout)); err != nil {
		errs = append(errs, err)
	}
	if err := a.ml.Leave(timeout); err != nil {
		errs = append(errs, fmt.Errorf("members: leave: %w", err))
	}
	return errors.Join(errs...)
}

// sendLeaving sends the leave message to every other alive member, coordinators first,
// until deadline.
func (a *Agent) sendLeaving(deadline time.Time) error {
	self := a.Name()
	msg := append([]byte{msgLeaving}, self...)
	nodes := a.ml.Members()
	slices.SortStableFunc(nodes, func(x, y *memberlist.Node) int {
		return cmpBool(roleOf(x) != RoleCoordinator, roleOf(y) != RoleCoordinator)
	})
	var errs []error
	for _, n := range nodes {
		if n.Name == self {
			continue
		}
		if time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("members: no time left to tell %s of the leave", n.Name))
			continue
		}
		if err := a.ml.SendReliable(n, msg); err != nil {
			errs = append(errs, fmt.Errorf("members: telling %s of the leave: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

func roleOf(n *memberlist.Node) Role {
	m, _ := Decode(n.Meta)
	return m.Role
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// markLeaving records that the member name said it leaves. If gossip already reported it
// dead (the message came late), it is recorded as left.
func (a *Agent) markLeaving(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.leaving[name] = true
	if m, ok := a.known[name]; ok && m.State == StateDead {
		m.State = StateLeft
		a.known[name] = m
	}
}

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

// push records the member's new state and queues the event for the pump.
func (a *Agent) push(e Event) {
	a.mu.Lock()
	a.known[e.Member.Name] = e.Member
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

// member returns a node as a Member in state s.
func member(n *memberlist.Node, s State) Member {
	m := Member{Name: n.Name, Addr: net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port))), State: s}
	m.Meta, m.MetaErr = Decode(n.Meta)
	return m
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

// delegate gives memberlist the node's metadata and receives the leave messages.
type delegate struct{ a *Agent }

func (d delegate) NodeMeta(limit int) []byte {
	d.a.mu.Lock()
	defer d.a.mu.Unlock()
	if len(d.a.enc) > limit {
		return nil // Encode checked the size against MetaMaxSize
	}
	return d.a.enc
}

// NotifyMsg receives the members' messages: a leave message marks its sender as leaving.
func (d delegate) NotifyMsg(b []byte) {
	if len(b) > 1 && b[0] == msgLeaving {
		d.a.markLeaving(string(b[1:]))
	}
}

func (delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (delegate) LocalState(join bool) []byte                { return nil }
func (delegate) MergeRemoteState(buf []byte, join bool)     {}

// eventDelegate turns memberlist's callbacks into member states and queued Events.
// memberlist calls them with its node lock held, one at a time, in the order of the
// changes; it passes a Node whose State field it never sets (its own state lives elsewhere),
// so the state comes from which callback is called.
type eventDelegate struct{ a *Agent }

func (d eventDelegate) NotifyJoin(n *memberlist.Node) {
	d.a.mu.Lock()
	delete(d.a.leaving, n.Name)
	d.a.mu.Unlock()
	d.a.push(Event{Kind: EventJoin, Member: member(n, StateAlive)})
}
func (d eventDelegate) NotifyUpdate(n *memberlist.Node) {
	d.a.push(Event{Kind: EventUpdate, Member: member(n, StateAlive)})
}

// NotifyLeave reports a member that left or died: memberlist calls it for both. A member
// that said it leaves (Agent.Leave's message, or its last metadata) left; any other was
// declared dead.
func (d eventDelegate) NotifyLeave(n *memberlist.Node) {
	m := member(n, StateDead)
	d.a.mu.Lock()
	said := d.a.leaving[n.Name]
	d.a.mu.Unlock()
	if said || m.MetaErr == nil && m.Meta.Leaving {
		m.State = StateLeft
	}
	d.a.push(Event{Kind: EventLeave, Member: m})
}

// CheckAddresses returns what is wrong with a node's bind and advertise addresses (advertise
// may be empty: it then defaults from bind), one message each, for a Config's Validate.
func CheckAddresses(bind, advertise string) []string {
	var bad []string
	if net.ParseIP(bind) == nil {
		bad = append(bad, fmt.Sprintf("bind address %q: want an IP address (0.0.0.0 for every interface)", bind))
	}
	if advertise != "" {
		if ip := net.ParseIP(advertise); ip == nil || ip.IsUnspecified() {
			bad = append(bad, fmt.Sprintf("advertise address %q: want the IP address other nodes reach this one at", advertise))
		}
	}
	return bad
}
