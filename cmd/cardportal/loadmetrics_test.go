package main

import (
	"strings"
	"testing"
	"time"
)

const metricsBefore = `# HELP cardportal_http_request_duration_seconds HTTP request latency by route pattern.
# TYPE cardportal_http_request_duration_seconds histogram
cardportal_http_request_duration_seconds_bucket{route="GET /healthz",le="0.005"} 7
cardportal_http_request_duration_seconds_bucket{route="POST /network/v1/authorisations",le="0.005"} 100
cardportal_http_request_duration_seconds_bucket{route="POST /network/v1/authorisations",le="0.0075"} 100
cardportal_http_request_duration_seconds_bucket{route="POST /network/v1/authorisations",le="0.01"} 100
cardportal_http_request_duration_seconds_bucket{route="POST /network/v1/authorisations",le="+Inf"} 100
cardportal_http_request_duration_seconds_count{route="POST /network/v1/authorisations"} 100
`

// After a step of 1,000 requests: 900 within 5 ms, 985 within 7.5 ms, 995 within
// 10 ms, 5 slower.
const metricsAfter = `cardportal_http_request_duration_seconds_bucket{route="POST /network/v1/authorisations",le="0.005"} 1000
cardportal_http_request_duration_seconds_bucket{route="POST /network/v1/authorisations",le="0.0075"} 1085
cardportal_http_request_duration_seconds_bucket{route="POST /network/v1/authorisations",le="0.01"} 1095
cardportal_http_request_duration_seconds_bucket{route="POST /network/v1/authorisations",le="+Inf"} 1100
cardportal_http_request_duration_seconds_bucket{route="GET /healthz",le="+Inf"} 9
`

func TestServerLatencyFromHistogram(t *testing.T) {
	before, err := parseHistogram(strings.NewReader(metricsBefore))
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseHistogram(strings.NewReader(metricsAfter))
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 4 || before[0.005] != 100 {
		t.Fatalf("parsed %v: want the four authorisation buckets only", before)
	}
	d := after.since(before)
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{.5, 5 * time.Millisecond}, {.9, 5 * time.Millisecond}, {.95, 7500 * time.Microsecond}, {.99, 10 * time.Millisecond}} {
		if got, ok := d.quantile(tt.q); !ok || got != tt.want {
			t.Errorf("quantile(%v) = %v, %v; want %v", tt.q, got, ok, tt.want)
		}
	}
	if _, ok := d.quantile(.999); ok {
		t.Error("the 999th thousandth is in the unbounded bucket: no bound to give")
	}
	if got := serverLatency(after, before); got != "  server-side p50 ≤ 5ms  p99 ≤ 10ms" {
		t.Errorf("serverLatency = %q", got)
	}
	if got := serverLatency(nil, before); got != "" {
		t.Errorf("serverLatency without a reading = %q, want empty", got)
	}
}
