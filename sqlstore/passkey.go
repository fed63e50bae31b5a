package sqlstore

import (
	"context"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// This file implements identity.PasskeyStore: passkeys and begun WebAuthn ceremonies.

var _ identity.PasskeyStore = (*Store)(nil)

// SaveWebAuthnChallenge stores c, replacing a challenge with the same hash in one
// statement.
func (s *Store) SaveWebAuthnChallenge(ctx context.Context, c identity.WebAuthnChallenge) error {
	const op = "sqlstore.SaveWebAuthnChallenge"
	_, err := s.write.ExecContext(ctx, `
INSERT INTO webauthn_challenges (token_hash, purpose, member_id, session, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (token_hash) DO UPDATE SET
  purpose = excluded.purpose, member_id = excluded.member_id, session = excluded.session,
  created_at = excluded.created_at, expires_at = excluded.expires_at`,
		nonNilBytes(c.TokenHash), c.Purpose, int64(c.MemberID), nonNilBytes(c.Session), micros(c.CreatedAt), micros(c.ExpiresAt))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// TakeWebAuthnChallenge deletes and returns the challenge in one statement, so of two
// concurrent takers only one gets a row. Returns NotFound.
func (s *Store) TakeWebAuthnChallenge(ctx context.Context, hash []byte, purpose string) (identity.WebAuthnChallenge, error) {
	const op = "sqlstore.TakeWebAuthnChallenge"
	var (
		c                identity.WebAuthnChallenge
		member           int64
		created, expires int64
	)
	err := s.write.QueryRowContext(ctx, `
DELETE FROM webauthn_challenges WHERE token_hash = $1 AND purpose = $2
RETURNING token_hash, purpose, member_id, session, created_at, expires_at`, nonNilBytes(hash), purpose).
		Scan(&c.TokenHash, &c.Purpose, &member, &c.Session, &created, &expires)
	if err != nil {
		return identity.WebAuthnChallenge{}, notFoundOr(op, err)
	}
	c.MemberID = identity.MemberID(member)
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	return c, nil
}

const passkeySelect = `
SELECT id, member_id, credential_id, user_handle, name, credential, sign_count, created_at, last_used_at FROM passkeys`

func scanPasskey(sc interface{ Scan(...any) error }) (identity.Passkey, error) {
	var (
		p             identity.Passkey
		member, count int64
		created, used int64
	)
	if err := sc.Scan(&p.ID, &member, &p.CredentialID, &p.UserHandle, &p.Name, &p.Credential, &count, &created, &used); err != nil {
		return identity.Passkey{}, err
	}
	p.MemberID = identity.MemberID(member)
	p.SignCount = uint32(count)
	p.CreatedAt, p.LastUsedAt = fromMicros(created), fromMicros(used)
	return p, nil
}

// CreatePasskey stores p and sets p.ID. Returns Conflict if the credential id exists.
func (s *Store) CreatePasskey(ctx context.Context, p *identity.Passkey) error {
	const op = "sqlstore.CreatePasskey"
	err := s.write.QueryRowContext(ctx, `
INSERT INTO passkeys (member_id, credential_id, user_handle, name, credential, sign_count, created_at, last_used_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id`,
		int64(p.MemberID), nonNilBytes(p.CredentialID), nonNilBytes(p.UserHandle), p.Name, nonNilBytes(p.Credential),
		int64(p.SignCount), micros(p.CreatedAt), micros(p.LastUsedAt)).Scan(&p.ID)
	if err != nil {
		if s.d.IsUniqueViolation(err, "passkeys", "") {
			return cp.E(op, cp.Conflict, "", err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// ListPasskeys returns the member's passkeys, oldest first.
func (s *Store) ListPasskeys(ctx context.Context, member identity.MemberID) ([]identity.Passkey, error) {
	const op = "sqlstore.ListPasskeys"
	rows, err := s.read.QueryContext(ctx, passkeySelect+` WHERE member_id = $1 ORDER BY id`, int64(member))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []identity.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// PasskeyByCredentialID returns the passkey with that credential id. Returns NotFound.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (identity.Passkey, error) {
	const op = "sqlstore.PasskeyByCredentialID"
	p, err := scanPasskey(s.read.QueryRowContext(ctx, passkeySelect+` WHERE credential_id = $1`, nonNilBytes(credentialID)))
	if err != nil {
		return identity.Passkey{}, notFoundOr(op, err)
	}
	return p, nil
}

// UsePasskey records a use if the stored sign count is still from. Returns Conflict if
// it moved, NotFound if the passkey is gone.
func (s *Store) UsePasskey(ctx context.Context, id int64, from, to uint32, credential []byte, now time.Time) error {
	const op = "sqlstore.UsePasskey"
	return s.inTx(ctx, op, func(tx *poolTx) error {
		var count int64
		err := tx.QueryRowContext(ctx, `SELECT sign_count FROM passkeys WHERE id = $1`+s.d.LockSuffix, id).Scan(&count)
		if err != nil {
			return notFoundOr(op, err)
		}
		if uint32(count) != from {
			return cp.E(op, cp.Conflict, "", nil)
		}
		_, err = tx.ExecContext(ctx, `
UPDATE passkeys SET sign_count = $2, credential = $3, last_used_at = $4 WHERE id = $1`,
			id, int64(to), nonNilBytes(credential), micros(now))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
}

// DeletePasskey removes one of the member's passkeys. Returns NotFound if the member
// has none with that id.
func (s *Store) DeletePasskey(ctx context.Context, member identity.MemberID, id int64) error {
	const op = "sqlstore.DeletePasskey"
	res, err := s.write.ExecContext(ctx, `DELETE FROM passkeys WHERE id = $1 AND member_id = $2`, id, int64(member))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}
