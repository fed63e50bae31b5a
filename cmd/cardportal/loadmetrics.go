package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The load command's own latency figures are measured from when each request was due
// and so include the client: on a 2-core machine it shares the cores with the
// server, and a worker's timer that fires late counts against the server. The server's
// request-duration histogram (safehttp's metrics, at /metrics) says how long the
// server itself took; read before and after a step, its difference is that step's
// distribution, to the resolution of its buckets.

// authRoute is the histogram's label for authorisation requests.
const authRoute = `route="POST /network/v1/authorisations"`

// histogram maps a bucket's upper bound in seconds to its cumulative count.
type histogram map[float64]float64

// parseHistogram reads the buckets of authRoute from Prometheus text exposition.
func parseHistogram(r io.Reader) (histogram, error) {
	h := histogram{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "cardportal_http_request_duration_seconds_bucket{") || !strings.Contains(line, authRoute) {
			continue
		}
		_, rest, ok := strings.Cut(line, `le="`)
		if !ok {
			continue
		}
		le, rest, ok := strings.Cut(rest, `"`)
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", le, err)
		}
		bound, err := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
		if err != nil {
			return nil, fmt.Errorf("bucket bound %q: %w", le, err)
		}
		h[bound] = n
	}
	return h, sc.Err()
}

// since is h less an earlier reading of the same histogram.
func (h histogram) since(before histogram) histogram {
	out := histogram{}
	for b, n := range h {
		out[b] = n - before[b]
	}
	return out
}

// quantile is the upper bound of the bucket that holds quantile q, and false when the
// histogram is empty or q falls in the last, unbounded bucket.
func (h histogram) quantile(q float64) (time.Duration, bool) {
	bounds := make([]float64, 0, len(h))
	for b := range h {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 {
		return 0, false
	}
	total := h[bounds[len(bounds)-1]]
	if total <= 0 {
		return 0, false
	}
	for _, b := range bounds {
		if h[b] >= q*total {
			if b > 1e9 {
				return 0, false
			}
			return time.Duration(b * float64(time.Second)), true
		}
	}
	return 0, false
}

// serverHistogram reads the server's authorisation latency histogram.
func serverHistogram(ctx context.Context, c *http.Client, base string) (histogram, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: status %d", resp.StatusCode)
	}
	return parseHistogram(resp.Body)
}

// serverLatency describes a step's server-side p50 and p99 as the bucket bounds they
// fall under, or "" when the histogram could not be read.
func serverLatency(after, before histogram) string {
	if after == nil || before == nil {
		return ""
	}
	d := after.since(before)
	p50, ok50 := d.quantile(.50)
	p99, ok99 := d.quantile(.99)
	if !ok50 || !ok99 {
		return ""
	}
	return fmt.Sprintf("  server-side p50 ≤ %v  p99 ≤ %v", p50, p99)
}
