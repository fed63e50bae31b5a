package sqlstore

import (
	"context"
	"fmt"
	"time"

	cp "github.com/cardportal/cardportal"
)

// hit counts one hit in a single upsert, so concurrent hits from any number of
// instances are all counted. A hit whose window ($2) is the stored one or older (an
// instance whose clock lags) is counted in the stored window rather than resetting it,
// so clock skew between instances cannot be used to slip past a limit. In the SET
// list, throttle.* are the values before the update on both engines.
const hit = `
INSERT INTO throttle (key, window_start, window_end, count)
VALUES ($1, $2, $3, 1)
ON CONFLICT (key) DO UPDATE SET
  count        = CASE WHEN throttle.window_start >= excluded.window_start THEN throttle.count + 1 ELSE 1 END,
  window_start = CASE WHEN throttle.window_start >= excluded.window_start THEN throttle.window_start ELSE excluded.window_start END,
  window_end   = CASE WHEN throttle.window_start >= excluded.window_start THEN throttle.window_end ELSE excluded.window_end END
RETURNING count, window_end`

// Hit records one hit for key at now in the fixed window containing now (windows are
// aligned to the Unix epoch) and returns the window's count and end.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	const op = "sqlstore.Hit"
	w := window.Microseconds()
	if w <= 0 {
		return 0, time.Time{}, cp.E(op, cp.Invalid, "", fmt.Errorf("window %v is shorter than a microsecond", window))
	}
	start := floorDiv(now.UnixMicro(), w) * w
	var count, end int64
	if err := s.write.QueryRowContext(ctx, hit, key, start, start+w).Scan(&count, &end); err != nil {
		return 0, time.Time{}, cp.E(op, cp.Internal, "", err)
	}
	return int(count), fromMicros(end), nil
}
