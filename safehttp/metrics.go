package safehttp

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP metrics, labelled by route pattern (never by raw path, which
// would grow without bound and could carry identifiers).
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardportal_http_requests_total",
			Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cardportal_http_request_duration_seconds",
			Help: "HTTP request latency by route pattern.",
			// Finer around 10 ms, the card network interface's latency target, which
			// the load command reads back per step (cmd/cardportal/loadmetrics.go).
			Buckets: []float64{.0005, .001, .0025, .005, .0075, .01, .015, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *Metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func asMaxBytes(err error, target **http.MaxBytesError) bool { return errors.As(err, target) }
