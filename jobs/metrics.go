package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what happens to jobs, by kind, for Prometheus. A nil *Metrics
// counts nothing, so tests and tools can leave it out.
type Metrics struct {
	enqueued *prometheus.CounterVec
	outcomes *prometheus.CounterVec
}

type outcome string

const (
	outcomeSucceeded outcome = "succeeded"
	outcomeRetried   outcome = "retried"
	outcomeFailed    outcome = "failed"
)

// NewMetrics registers the job counters with reg:
//
//	cardportal_jobs_enqueued_total{kind}
//	cardportal_jobs_finished_total{kind, outcome="succeeded"|"retried"|"failed"}
//
// A "retried" outcome is an attempt that failed and will be tried again; "failed" is
// a job given up on, which needs an operator.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardportal_jobs_enqueued_total", Help: "Background jobs enqueued, by kind.",
		}, []string{"kind"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardportal_jobs_finished_total", Help: "Attempts at background jobs, by kind and outcome (succeeded, retried, failed).",
		}, []string{"kind", "outcome"}),
	}
	reg.MustRegister(m.enqueued, m.outcomes)
	return m
}

// Enqueued counts a job of kind added to the queue.
func (m *Metrics) Enqueued(kind string) {
	if m != nil {
		m.enqueued.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) observe(kind string, o outcome) {
	if m != nil {
		m.outcomes.WithLabelValues(kind, string(o)).Inc()
	}
}

// statsCollector reports the queue's current contents on each scrape, so a backlog or
// a pile of failed jobs shows on a dashboard even after a restart reset the counters.
type statsCollector struct {
	store Store
	desc  *prometheus.Desc
}

// RegisterStats registers the gauge cardportal_jobs{kind, state}, read from the store
// at each scrape.
func RegisterStats(reg prometheus.Registerer, s Store) {
	reg.MustRegister(&statsCollector{store: s, desc: prometheus.NewDesc(
		"cardportal_jobs", "Background jobs in the queue, by kind and state.", []string{"kind", "state"}, nil)})
}

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stats, err := c.store.JobStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(s.Count), s.Kind, string(s.State))
	}
}
