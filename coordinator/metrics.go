package coordinator

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tokenmill/tokenmill/internal/members"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// collector reads the node's metrics at scrape time from the FSM, gossip, the scheduler
// and raft; it keeps no state of its own.
type collector struct{ n *Node }

var (
	descTasks     = prometheus.NewDesc("tokenmill_tasks", "Tasks of all jobs by state.", []string{"state"}, nil)
	descJobs      = prometheus.NewDesc("tokenmill_jobs", "Jobs by state.", []string{"state"}, nil)
	descWorkers   = prometheus.NewDesc("tokenmill_workers_alive", "Workers alive in gossip.", nil, nil)
	descSlots     = prometheus.NewDesc("tokenmill_worker_slots", "Slots of the workers alive in gossip.", nil, nil)
	descSlotsUsed = prometheus.NewDesc("tokenmill_slots", "Worker slots free and busy as the workers last heartbeated (on the leader; 0 on followers).", []string{"state"}, nil)
	descTokens    = prometheus.NewDesc("tokenmill_tokens_committed_total", "Tokens of the committed shards of all jobs; its rate is tokens per second.", nil, nil)
	descRaftState = prometheus.NewDesc("tokenmill_raft_state", "1 for this node's raft state.", []string{"state"}, nil)
	descApplied   = prometheus.NewDesc("tokenmill_raft_applied_index", "The last raft index applied to the FSM.", nil, nil)
	descCooling   = prometheus.NewDesc("tokenmill_worker_cooling", "1 for each worker in a cool-down (on the leader).", []string{"worker"}, nil)
	descCoolLeft  = prometheus.NewDesc("tokenmill_worker_cooldown_seconds", "Seconds left of each worker's cool-down under way (on the leader).", []string{"worker"}, nil)
	descCooldowns = prometheus.NewDesc("tokenmill_worker_cooldowns_total", "Cool-downs this node started while it led.", nil, nil)
	descSpecStart = prometheus.NewDesc("tokenmill_speculative_attempts_started_total", "Speculative attempts of slow shards this node started while it led.", nil, nil)
	descSpecWon   = prometheus.NewDesc("tokenmill_speculative_attempts_won_total", "Speculative attempts whose result was committed before the first attempt's, while this node led.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	var tasks [4]float64 // blocked, pending, leased, committed
	jobs := map[pb.JobState]float64{}
	var tokens float64
	for _, st := range n.fsm.Jobs() {
		jobs[st.State]++
		t := st.Tasks
		tasks[0] += float64(t.Blocked)
		tasks[1] += float64(t.Pending)
		tasks[2] += float64(t.Leased)
		tasks[3] += float64(t.Committed)
		tokens += float64(st.Progress.GetTokens())
	}
	for i, s := range []string{"blocked", "pending", "leased", "committed"} {
		ch <- prometheus.MustNewConstMetric(descTasks, prometheus.GaugeValue, tasks[i], s)
	}
	for v := pb.JobState_JOB_STATE_PLANNING; v <= pb.JobState_JOB_STATE_CANCELED; v++ {
		ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, jobs[v], jobStateText(v))
	}
	workers := n.gossip.Alive(members.RoleWorker)
	slots := 0
	for _, w := range workers {
		slots += w.Meta.Slots
	}
	ch <- prometheus.MustNewConstMetric(descWorkers, prometheus.GaugeValue, float64(len(workers)))
	ch <- prometheus.MustNewConstMetric(descSlots, prometheus.GaugeValue, float64(slots))
	now := n.clock.Now()
	for id, until := range n.sched.cooldowns(now) {
		ch <- prometheus.MustNewConstMetric(descCooling, prometheus.GaugeValue, 1, id)
		ch <- prometheus.MustNewConstMetric(descCoolLeft, prometheus.GaugeValue, until.Sub(now).Seconds(), id)
	}
	ch <- prometheus.MustNewConstMetric(descCooldowns, prometheus.CounterValue, float64(n.sched.cooldownsStarted()))
	started, won := n.sched.speculations()
	ch <- prometheus.MustNewConstMetric(descSpecStart, prometheus.CounterValue, float64(started))
	ch <- prometheus.MustNewConstMetric(descSpecWon, prometheus.CounterValue, float64(won))
	free, busy := n.sched.slots()
	ch <- prometheus.MustNewConstMetric(descSlotsUsed, prometheus.GaugeValue, float64(free), "free")
	ch <- prometheus.MustNewConstMetric(descSlotsUsed, prometheus.GaugeValue, float64(busy), "busy")
	ch <- prometheus.MustNewConstMetric(descTokens, prometheus.CounterValue, tokens)
	cur := strings.ToLower(n.raft.State().String())
	for _, s := range []string{"follower", "candidate", "leader", "shutdown"} {
		v := 0.0
		if s == cur {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descRaftState, prometheus.GaugeValue, v, s)
	}
	ch <- prometheus.MustNewConstMetric(descApplied, prometheus.GaugeValue, float64(n.raft.AppliedIndex()))
}

// startHTTP serves /healthz and /metrics on cfg.HTTPPort, unless it is -1. The registry is
// the node's own: the node's collector and the Go runtime's.
func (n *Node) startHTTP() error {
	if n.cfg.HTTPPort < 0 {
		return nil
	}
	n.registry.MustRegister(collector{n}, collectors.NewGoCollector())
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(n.registry, promhttp.HandlerOpts{Registry: n.registry}))
	mux.HandleFunc("/healthz", n.healthz)
	ln, err := net.Listen("tcp", net.JoinHostPort(n.cfg.BindAddr, strconv.Itoa(n.cfg.HTTPPort)))
	if err != nil {
		return fmt.Errorf("coordinator: http listener: %w", err)
	}
	n.httpLn = ln
	n.http = &http.Server{Handler: mux}
	n.goRun(func() {
		if err := n.http.Serve(ln); err != nil && err != http.ErrServerClosed {
			n.log.Error("http server stopped", "err", err)
		}
	})
	return nil
}

// healthz answers 200 when this node knows a leader (it can serve every call), 503 when it
// does not; the body says the node's id, raft state and leader as JSON.
func (n *Node) healthz(w http.ResponseWriter, _ *http.Request) {
	leader := n.Leader()
	code := http.StatusOK
	if leader == "" {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"id": n.cfg.ID,
		"raft_state": strings.ToLower(n.raft.State().String()), "leader": leader})
}
