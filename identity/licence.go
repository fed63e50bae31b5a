package identity

import (
	"context"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
)

// The mobile licence agreement (SPEC ID12): an app installation accepts the current
// version before its first session, and again whenever the version changes. Browsers
// are not asked. The version is configuration (Config.LicenceVersion); empty turns
// the requirement off.

// Messages of the licence agreement.
const (
	msgLicenceRequired = "licence.required"
	msgLicenceStale    = "licence.version.stale"
	msgLicenceDevice   = "licence.device.required"
)

// LicenceAcceptance is one installation's acceptance of one version.
type LicenceAcceptance struct {
	DeviceHash []byte
	Version    string
	AcceptedAt time.Time
	IP         string
}

// LicenceStore keeps licence acceptances.
type LicenceStore interface {
	// AcceptLicence records a. Accepting the same version again on the same
	// installation is not an error and keeps the first acceptance.
	AcceptLicence(ctx context.Context, a LicenceAcceptance) error
	// LicenceAccepted reports whether the installation accepted version.
	LicenceAccepted(ctx context.Context, deviceHash []byte, version string) (bool, error)
}

// LicenceVersion is the version app installations must accept; empty when none is
// required.
func (s *Service) LicenceVersion() string { return s.cfg.LicenceVersion }

// AcceptLicence records that the app installation src.DeviceID accepted version,
// which must be the current one. Errors: Invalid on "version"
// (licence.version.stale) or "device_id" (licence.device.required).
func (s *Service) AcceptLicence(ctx context.Context, version string, src Source) error {
	const op = "identity.AcceptLicence"
	var fields []cp.FieldError
	if s.cfg.LicenceVersion == "" || strings.TrimSpace(version) != s.cfg.LicenceVersion {
		fields = append(fields, fieldErr("version", msgLicenceStale))
	}
	h := deviceHash(src.DeviceID)
	if h == nil {
		fields = append(fields, fieldErr("device_id", msgLicenceDevice))
	}
	if len(fields) > 0 {
		return cp.InvalidFields(op, fields...)
	}
	err := s.store.AcceptLicence(ctx, LicenceAcceptance{DeviceHash: h, Version: s.cfg.LicenceVersion, AcceptedAt: s.now(), IP: src.IP})
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// checkLicence refuses an app installation that has not accepted the current version
// with Forbidden "licence.required". Browsers, and everything when no version is
// configured, pass.
func (s *Service) checkLicence(ctx context.Context, op string, src Source) error {
	if src.Client != App || s.cfg.LicenceVersion == "" {
		return nil
	}
	h := deviceHash(src.DeviceID)
	if h == nil {
		return cp.E(op, cp.Forbidden, msgLicenceRequired, nil)
	}
	ok, err := s.store.LicenceAccepted(ctx, h, s.cfg.LicenceVersion)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if !ok {
		return cp.E(op, cp.Forbidden, msgLicenceRequired, nil)
	}
	return nil
}
