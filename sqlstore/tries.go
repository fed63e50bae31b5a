package sqlstore

import (
	"context"

	cp "github.com/cardportal/cardportal"
)

// reserveTry counts one guess at a one-time code (step-up, password reset, contact
// confirmation). update is a single conditional UPDATE that adds a try only while
// fewer than the maximum have been made, so concurrent guesses on any number of
// instances cannot exceed it. When it changes no row, exists tells a used-up code
// (false, nil) from a missing one (its NotFound error).
func (s *Store) reserveTry(ctx context.Context, op, update string, args []any, exists func() error) (bool, error) {
	res, err := s.write.ExecContext(ctx, update, args...)
	if err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	if n == 1 {
		return true, nil
	}
	if err := exists(); err != nil {
		return false, err
	}
	return false, nil
}
