package sqlstore

import (
	"context"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// CreateFlow stores f. Returns Conflict if a flow with the same token hash exists.
func (s *Store) CreateFlow(ctx context.Context, f identity.Flow) error {
	const op = "sqlstore.CreateFlow"
	_, err := s.write.ExecContext(ctx, `
INSERT INTO flows (token_hash, kind, cardholder_id, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5)`,
		nonNilBytes(f.TokenHash), f.Kind, f.CardholderID, micros(f.CreatedAt), micros(f.ExpiresAt))
	switch {
	case err == nil:
		return nil
	case s.d.IsUniqueViolation(err, "flows", ""):
		return cp.E(op, cp.Conflict, "", err)
	default:
		return cp.E(op, cp.Internal, "", err)
	}
}

// FlowByTokenHash returns the flow, expired or not. Returns NotFound, also for a
// deleted (consumed) flow.
func (s *Store) FlowByTokenHash(ctx context.Context, hash []byte) (identity.Flow, error) {
	const op = "sqlstore.FlowByTokenHash"
	var (
		f                identity.Flow
		created, expires int64
	)
	err := s.read.QueryRowContext(ctx, `
SELECT token_hash, kind, cardholder_id, created_at, expires_at FROM flows WHERE token_hash = $1`, hash).
		Scan(&f.TokenHash, &f.Kind, &f.CardholderID, &created, &expires)
	if err != nil {
		return identity.Flow{}, notFoundOr(op, err)
	}
	f.CreatedAt = fromMicros(created)
	f.ExpiresAt = fromMicros(expires)
	return f, nil
}

// DeleteFlow removes a flow; it is not an error if it is already gone.
func (s *Store) DeleteFlow(ctx context.Context, hash []byte) error {
	const op = "sqlstore.DeleteFlow"
	if _, err := s.write.ExecContext(ctx, `DELETE FROM flows WHERE token_hash = $1`, hash); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}
