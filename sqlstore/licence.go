package sqlstore

import (
	"context"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// AcceptLicence records an acceptance; a repeat keeps the first one (its time and
// address are the record of when the agreement was made).
func (s *Store) AcceptLicence(ctx context.Context, a identity.LicenceAcceptance) error {
	const op = "sqlstore.AcceptLicence"
	if _, err := s.write.ExecContext(ctx, `INSERT INTO licence_acceptances (device_hash, version, accepted_at, ip)
VALUES ($1, $2, $3, $4) ON CONFLICT (device_hash, version) DO NOTHING`,
		nonNilBytes(a.DeviceHash), a.Version, micros(a.AcceptedAt), a.IP); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// LicenceAccepted reports whether the installation accepted version.
func (s *Store) LicenceAccepted(ctx context.Context, deviceHash []byte, version string) (bool, error) {
	const op = "sqlstore.LicenceAccepted"
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM licence_acceptances WHERE device_hash = $1 AND version = $2`,
		nonNilBytes(deviceHash), version).Scan(&n); err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	return n > 0, nil
}
