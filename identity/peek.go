package identity

import (
	"context"

	cp "github.com/cardportal/cardportal"
)

// Peek is Authenticate without counting as activity: it returns the live session for
// a token but leaves its idle clock alone. Screens that refresh themselves (a live
// dashboard) use it, so an unattended open page still times out like any other.
// Returns what Authenticate returns for a dead or unknown session.
func (s *Service) Peek(ctx context.Context, tok Token) (Session, error) {
	const op = "identity.Peek"
	if !tok.valid() {
		return Session{}, cp.E(op, cp.Unauthenticated, "signin.expired", nil)
	}
	sess, err := s.store.SessionByTokenHash(ctx, tok.hash())
	switch {
	case cp.IsKind(err, cp.NotFound):
		return Session{}, cp.E(op, cp.Unauthenticated, "signin.expired", nil)
	case err != nil:
		return Session{}, cp.E(op, cp.Internal, "", err)
	case !sess.Alive(s.now()):
		return Session{}, cp.E(op, cp.Unauthenticated, "signin.expired", nil)
	case sess.MustChangePassword:
		return Session{}, cp.E(op, cp.Forbidden, msgPasswordExpired, nil)
	}
	return sess, nil
}
