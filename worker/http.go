package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tokenmill/tokenmill/internal/outdir"
)

// Stats are what a worker is doing, as /metrics reports it.
type Stats struct {
	Slots, Busy int  // slots, and tasks running
	Draining    bool // the worker takes no new task
	// Tokens counts the tokens the worker's shard tasks tokenized since it started: those
	// of the tasks that ended and the running ones' so far. Its rate is tokens per second.
	Tokens int64
}

// Stats returns the worker's current figures.
func (w *Worker) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := Stats{Slots: w.cfg.Slots, Busy: len(w.running), Draining: w.draining, Tokens: w.tokens}
	for _, t := range w.running {
		s.Tokens += t.progress.Tokens.Load()
	}
	return s
}

// HTTPAddr returns the address of the HTTP server (host:port), or "" without one.
func (w *Worker) HTTPAddr() string {
	if w.httpLn == nil {
		return ""
	}
	return w.httpLn.Addr().String()
}

// collector reads the worker's metrics at scrape time; it keeps no state of its own.
type collector struct{ w *Worker }

var (
	descRunning = prometheus.NewDesc("tokenmill_worker_tasks_running", "Tasks the worker runs.", nil, nil)
	descSlots   = prometheus.NewDesc("tokenmill_worker_slots", "The worker's slots, free and busy.", []string{"state"}, nil)
	descTokens  = prometheus.NewDesc("tokenmill_worker_tokens_total", "Tokens the worker's shard tasks tokenized; its rate is tokens per second.", nil, nil)
	descDrain   = prometheus.NewDesc("tokenmill_worker_draining", "1 while the worker drains (takes no new task).", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.w.Stats()
	ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, float64(s.Busy))
	ch <- prometheus.MustNewConstMetric(descSlots, prometheus.GaugeValue, float64(max(s.Slots-s.Busy, 0)), "free")
	ch <- prometheus.MustNewConstMetric(descSlots, prometheus.GaugeValue, float64(s.Busy), "busy")
	ch <- prometheus.MustNewConstMetric(descTokens, prometheus.CounterValue, float64(s.Tokens))
	drain := 0.0
	if s.Draining {
		drain = 1
	}
	ch <- prometheus.MustNewConstMetric(descDrain, prometheus.GaugeValue, drain)
}

// startHTTP serves /healthz and /metrics on cfg.HTTPPort, unless it is -1, from a registry of
// the worker's own (its collector and the Go runtime's).
func (w *Worker) startHTTP() error {
	if w.cfg.HTTPPort < 0 {
		return nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{w}, collectors.NewGoCollector())
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", w.healthz)
	ln, err := net.Listen("tcp", net.JoinHostPort(w.cfg.BindAddr, strconv.Itoa(w.cfg.HTTPPort)))
	if err != nil {
		return fmt.Errorf("worker: http listener: %w", err)
	}
	w.httpLn = ln
	w.http = &http.Server{Handler: mux}
	w.loops.Add(1)
	go func() {
		defer w.loops.Done()
		if err := w.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// healthz answers 200 while the worker takes tasks, 503 once it drains; the body says the
// worker's id, whether it joined the cluster, and its slots and tasks as JSON.
func (w *Worker) healthz(rw http.ResponseWriter, _ *http.Request) {
	s := w.Stats()
	w.mu.Lock()
	joined := w.joinedOnce
	w.mu.Unlock()
	code := http.StatusOK
	if s.Draining {
		code = http.StatusServiceUnavailable
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(code)
	json.NewEncoder(rw).Encode(map[string]any{"id": w.cfg.ID, "joined": joined, "draining": s.Draining,
		"slots": s.Slots, "busy": s.Busy})
}

// lockDataDir creates the worker's data directory and takes its lock.
func lockDataDir(dir string) (*outdir.Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("worker: data directory: %w", err)
	}
	l, err := outdir.Acquire(filepath.Join(dir, "worker"))
	var busy *outdir.BusyError
	switch {
	case errors.As(err, &busy) && busy.PID != 0:
		return nil, fmt.Errorf("worker: data directory %s is in use by another worker (pid %d)", dir, busy.PID)
	case errors.As(err, &busy):
		return nil, fmt.Errorf("worker: data directory %s is in use by another worker", dir)
	case err != nil:
		return nil, fmt.Errorf("worker: data directory %s: %w", dir, err)
	}
	return l, nil
}
