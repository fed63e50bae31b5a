package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// This file implements identity.MFAStore: devices, step-up flows, TOTP enrolments,
// recovery codes and the member's second-factor setting.

var _ identity.MFAStore = (*Store)(nil)

const deviceSelect = `
SELECT id, member_id, id_hash, label, first_seen, last_seen, trusted_until, revoked_at FROM devices`

func scanDevice(sc interface{ Scan(...any) error }) (identity.Device, error) {
	var (
		d                             identity.Device
		member                        int64
		first, last, trusted, revoked int64
	)
	if err := sc.Scan(&d.ID, &member, &d.IDHash, &d.Label, &first, &last, &trusted, &revoked); err != nil {
		return identity.Device{}, err
	}
	d.MemberID = identity.MemberID(member)
	d.FirstSeen, d.LastSeen = fromMicros(first), fromMicros(last)
	d.TrustedUntil, d.RevokedAt = fromMicros(trusted), fromMicros(revoked)
	return d, nil
}

// DeviceByHash returns the member's device with that id hash. Returns NotFound.
func (s *Store) DeviceByHash(ctx context.Context, member identity.MemberID, hash []byte) (identity.Device, error) {
	const op = "sqlstore.DeviceByHash"
	d, err := scanDevice(s.read.QueryRowContext(ctx, deviceSelect+` WHERE member_id = $1 AND id_hash = $2`, int64(member), nonNilBytes(hash)))
	if err != nil {
		return identity.Device{}, notFoundOr(op, err)
	}
	return d, nil
}

// saveDevice upserts the member's device by (member, id hash) in one statement, so two
// sign-ins from the same new device at once still make one row (StartSession).
func saveDevice(ctx context.Context, op string, q queryRower, d *identity.Device) error {
	err := q.QueryRowContext(ctx, `
INSERT INTO devices (member_id, id_hash, label, first_seen, last_seen, trusted_until, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6, 0)
ON CONFLICT (member_id, id_hash) DO UPDATE SET
  label = excluded.label, last_seen = excluded.last_seen,
  trusted_until = excluded.trusted_until, revoked_at = 0
RETURNING id`,
		int64(d.MemberID), nonNilBytes(d.IDHash), d.Label, micros(d.FirstSeen), micros(d.LastSeen), micros(d.TrustedUntil)).Scan(&d.ID)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// ListDevices returns the member's unrevoked devices, most recently seen first.
func (s *Store) ListDevices(ctx context.Context, member identity.MemberID) ([]identity.Device, error) {
	const op = "sqlstore.ListDevices"
	rows, err := s.read.QueryContext(ctx, deviceSelect+` WHERE member_id = $1 AND revoked_at = 0 ORDER BY last_seen DESC, id DESC`, int64(member))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []identity.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// RevokeDevice revokes one of the member's devices. Returns NotFound if the member has
// no unrevoked device with that id.
func (s *Store) RevokeDevice(ctx context.Context, member identity.MemberID, id int64, now time.Time) error {
	const op = "sqlstore.RevokeDevice"
	res, err := s.write.ExecContext(ctx, `
UPDATE devices SET revoked_at = $3, trusted_until = 0 WHERE id = $1 AND member_id = $2 AND revoked_at = 0`,
		id, int64(member), micros(now))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}

func joinReasons(rs []identity.Reason) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

func splitReasons(v string) []identity.Reason {
	if v == "" {
		return nil
	}
	var out []identity.Reason
	for _, r := range strings.Split(v, ",") {
		out = append(out, identity.Reason(r))
	}
	return out
}

// CreateStepUp stores f; an empty Purpose is stored as identity.PurposeSignIn.
// Returns Conflict if a flow with the same token hash exists.
func (s *Store) CreateStepUp(ctx context.Context, f identity.StepUp) error {
	const op = "sqlstore.CreateStepUp"
	purpose := f.Purpose
	if purpose == "" {
		purpose = identity.PurposeSignIn
	}
	_, err := s.write.ExecContext(ctx, `
INSERT INTO stepup_flows (token_hash, member_id, device_hash, reasons, question_id, created_at, expires_at,
                          code_mac, code_channel, code_expires_at, code_tries, purpose)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		nonNilBytes(f.TokenHash), int64(f.MemberID), nonNilBytes(f.DeviceHash), joinReasons(f.Reasons), f.QuestionID,
		micros(f.CreatedAt), micros(f.ExpiresAt), nonNilBytes(f.CodeMAC), string(f.CodeChannel), micros(f.CodeExpiresAt), f.CodeTries,
		purpose)
	switch {
	case err == nil:
		return nil
	case s.d.IsUniqueViolation(err, "stepup_flows", ""):
		return cp.E(op, cp.Conflict, "", err)
	default:
		return cp.E(op, cp.Internal, "", err)
	}
}

// StepUpByTokenHash returns the flow, expired or not. Returns NotFound. It reads from
// the write pool: a code just sent must be seen by the very next request.
func (s *Store) StepUpByTokenHash(ctx context.Context, hash []byte) (identity.StepUp, error) {
	const op = "sqlstore.StepUpByTokenHash"
	var (
		f                                 identity.StepUp
		member, created, expires, codeExp int64
		reasons, channel                  string
		tries                             int64
	)
	err := s.write.QueryRowContext(ctx, `
SELECT token_hash, member_id, device_hash, reasons, question_id, created_at, expires_at,
       code_mac, code_channel, code_expires_at, code_tries, purpose
  FROM stepup_flows WHERE token_hash = $1`, nonNilBytes(hash)).
		Scan(&f.TokenHash, &member, &f.DeviceHash, &reasons, &f.QuestionID, &created, &expires,
			&f.CodeMAC, &channel, &codeExp, &tries, &f.Purpose)
	if err != nil {
		return identity.StepUp{}, notFoundOr(op, err)
	}
	f.MemberID = identity.MemberID(member)
	f.Reasons = splitReasons(reasons)
	f.CreatedAt, f.ExpiresAt, f.CodeExpiresAt = fromMicros(created), fromMicros(expires), fromMicros(codeExp)
	f.CodeChannel = identity.Factor(channel)
	f.CodeTries = int(tries)
	if len(f.DeviceHash) == 0 {
		f.DeviceHash = nil
	}
	if len(f.CodeMAC) == 0 {
		f.CodeMAC = nil
	}
	return f, nil
}

// SetStepUpCode records a newly sent code and resets its tries. Returns NotFound.
func (s *Store) SetStepUpCode(ctx context.Context, hash, mac []byte, channel identity.Factor, expires time.Time) error {
	const op = "sqlstore.SetStepUpCode"
	res, err := s.write.ExecContext(ctx, `
UPDATE stepup_flows SET code_mac = $2, code_channel = $3, code_expires_at = $4, code_tries = 0 WHERE token_hash = $1`,
		nonNilBytes(hash), nonNilBytes(mac), string(channel), micros(expires))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}

// ReserveCodeTry counts one try in a single conditional UPDATE, which is atomic on
// both engines. Returns NotFound if the flow is gone.
func (s *Store) ReserveCodeTry(ctx context.Context, hash []byte, max int) (bool, error) {
	return s.reserveTry(ctx, "sqlstore.ReserveCodeTry",
		`UPDATE stepup_flows SET code_tries = code_tries + 1 WHERE token_hash = $1 AND code_tries < $2`,
		[]any{nonNilBytes(hash), max},
		func() error { _, err := s.StepUpByTokenHash(ctx, hash); return err })
}

// ConsumeStepUp deletes the flow. Returns NotFound if it was already gone.
func (s *Store) ConsumeStepUp(ctx context.Context, hash []byte) error {
	const op = "sqlstore.ConsumeStepUp"
	res, err := s.write.ExecContext(ctx, `DELETE FROM stepup_flows WHERE token_hash = $1`, nonNilBytes(hash))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}

// TOTP returns the member's enrolment. Returns NotFound.
func (s *Store) TOTP(ctx context.Context, member identity.MemberID) (identity.TOTPFactor, error) {
	const op = "sqlstore.TOTP"
	var (
		f                  identity.TOTPFactor
		created, confirmed int64
	)
	err := s.write.QueryRowContext(ctx, `
SELECT key_id, secret, created_at, confirmed_at, last_step FROM totp_factors WHERE member_id = $1`, int64(member)).
		Scan(&f.SecretKeyID, &f.Secret, &created, &confirmed, &f.LastStep)
	if err != nil {
		return identity.TOTPFactor{}, notFoundOr(op, err)
	}
	f.MemberID = member
	f.CreatedAt, f.ConfirmedAt = fromMicros(created), fromMicros(confirmed)
	return f, nil
}

// SaveTOTP inserts or replaces the member's enrolment.
func (s *Store) SaveTOTP(ctx context.Context, f identity.TOTPFactor) error {
	const op = "sqlstore.SaveTOTP"
	_, err := s.write.ExecContext(ctx, `
INSERT INTO totp_factors (member_id, key_id, secret, created_at, confirmed_at, last_step)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (member_id) DO UPDATE SET
  key_id = excluded.key_id, secret = excluded.secret, created_at = excluded.created_at,
  confirmed_at = excluded.confirmed_at, last_step = excluded.last_step`,
		int64(f.MemberID), f.SecretKeyID, nonNilBytes(f.Secret), micros(f.CreatedAt), micros(f.ConfirmedAt), f.LastStep)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// AdvanceTOTP moves last_step forward in one conditional UPDATE, so of two
// concurrent uses of the same code exactly one succeeds. Returns Conflict for a step
// at or before the last accepted one, NotFound with no enrolment.
func (s *Store) AdvanceTOTP(ctx context.Context, member identity.MemberID, step int64, now time.Time) error {
	const op = "sqlstore.AdvanceTOTP"
	res, err := s.write.ExecContext(ctx, `
UPDATE totp_factors SET last_step = $2,
       confirmed_at = CASE WHEN confirmed_at = 0 THEN $3 ELSE confirmed_at END
 WHERE member_id = $1 AND last_step < $2`, int64(member), step, micros(now))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if n == 1 {
		return nil
	}
	if _, err := s.TOTP(ctx, member); err != nil {
		return err
	}
	return cp.E(op, cp.Conflict, "", nil)
}

// DeleteTOTP removes the enrolment.
func (s *Store) DeleteTOTP(ctx context.Context, member identity.MemberID) error {
	const op = "sqlstore.DeleteTOTP"
	if _, err := s.write.ExecContext(ctx, `DELETE FROM totp_factors WHERE member_id = $1`, int64(member)); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// ReplaceRecoveryCodes replaces the member's codes in one transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, member identity.MemberID, macs [][]byte, now time.Time) error {
	const op = "sqlstore.ReplaceRecoveryCodes"
	return s.inTx(ctx, op, func(tx *poolTx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE member_id = $1`, int64(member)); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		for _, m := range macs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (member_id, mac, created_at, used_at) VALUES ($1, $2, $3, 0)`,
				int64(member), nonNilBytes(m), micros(now)); err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
		}
		return nil
	})
}

// UseRecoveryCode marks an unused code used in one conditional UPDATE. Returns
// NotFound if there is no such unused code.
func (s *Store) UseRecoveryCode(ctx context.Context, member identity.MemberID, mac []byte, now time.Time) error {
	const op = "sqlstore.UseRecoveryCode"
	res, err := s.write.ExecContext(ctx, `
UPDATE recovery_codes SET used_at = $3 WHERE member_id = $1 AND mac = $2 AND used_at = 0`,
		int64(member), nonNilBytes(mac), micros(now))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}

// RecoveryCodesLeft counts the member's unused codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, member identity.MemberID) (int, error) {
	const op = "sqlstore.RecoveryCodesLeft"
	var n int64
	if err := s.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE member_id = $1 AND used_at = 0`, int64(member)).Scan(&n); err != nil {
		return 0, cp.E(op, cp.Internal, "", err)
	}
	return int(n), nil
}

// MFARequired reports the member's setting; false when never set.
func (s *Store) MFARequired(ctx context.Context, member identity.MemberID) (bool, error) {
	const op = "sqlstore.MFARequired"
	var req bool
	err := s.read.QueryRowContext(ctx, `SELECT required FROM mfa_settings WHERE member_id = $1`, int64(member)).Scan(&req)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	return req, nil
}

// SetMFARequired records the member's setting.
func (s *Store) SetMFARequired(ctx context.Context, member identity.MemberID, required bool) error {
	const op = "sqlstore.SetMFARequired"
	if _, err := s.write.ExecContext(ctx, `
INSERT INTO mfa_settings (member_id, required) VALUES ($1, $2)
ON CONFLICT (member_id) DO UPDATE SET required = excluded.required`, int64(member), required); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// SecurityAnswers returns the member's answers (hashes) in question order.
func (s *Store) SecurityAnswers(ctx context.Context, member identity.MemberID) ([]identity.SecurityAnswer, error) {
	const op = "sqlstore.SecurityAnswers"
	rows, err := s.read.QueryContext(ctx, `
SELECT question_id, answer_hash FROM security_answers WHERE member_id = $1 ORDER BY question_id`, int64(member))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []identity.SecurityAnswer
	for rows.Next() {
		var a identity.SecurityAnswer
		if err := rows.Scan(&a.QuestionID, &a.AnswerHash); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}
