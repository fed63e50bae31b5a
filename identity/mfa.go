package identity

import (
	"context"
	"crypto/sha256"
	"time"
)

// This file holds the types of second factors and step-up at sign-in (SPEC ID7) and
// the store they need; risk.go decides when a second factor is asked, stepup.go runs
// the step-up flow and factors.go enrolment.

// Factor names a way of proving the second factor.
type Factor string

// The factors. Email and SMS one-time codes are available to every member with a
// registered address or phone; the others once enrolled or chosen.
const (
	FactorEmail    Factor = "email"
	FactorSMS      Factor = "sms"
	FactorTOTP     Factor = "totp"
	FactorRecovery Factor = "recovery"
	FactorQuestion Factor = "question"
)

// ParseFactor returns the factor named v.
func ParseFactor(v string) (Factor, bool) {
	switch f := Factor(v); f {
	case FactorEmail, FactorSMS, FactorTOTP, FactorRecovery, FactorQuestion, FactorPasskey:
		return f, true
	}
	return "", false
}

// Reason says why a sign-in was stepped up.
type Reason string

// The reasons risk assessment gives.
const (
	ReasonNewDevice      Reason = "new_device"
	ReasonAfterLockout   Reason = "after_lockout"
	ReasonUnusualNetwork Reason = "unusual_network"
	ReasonMemberRequires Reason = "member_requires_mfa"
)

// More security events.
const (
	EventStepUp          EventKind = "signin.stepup"      // the password was right; a second factor was asked
	EventStepUpFail      EventKind = "signin.stepup.fail" // a wrong second factor
	EventFactorAdded     EventKind = "mfa.added"
	EventFactorRemoved   EventKind = "mfa.removed"
	EventRecoveryNew     EventKind = "mfa.recovery.new"
	EventDeviceForgotten EventKind = "device.forgotten"
)

// MFAConfig is the step-up policy. Zero fields take DefaultMFAConfig's values.
type MFAConfig struct {
	TrustFor       time.Duration // how long "trust this device" skips step-up
	FlowLife       time.Duration // how long a step-up may take
	CodeLife       time.Duration // one-time code validity
	CodeTries      int           // wrong tries per code before it is dead
	ResendEvery    time.Duration // at most one code per flow in this time
	SendsPerHour   int           // codes per member per hour
	MemberAttempts int           // second-factor attempts per member per hour, across flows
	SourceAttempts int           // second-factor attempts per source address per 10 minutes
	RecentSignIns  int           // successful sign-ins whose networks count as usual
	// NoQuestionFallback turns the security-question factor off, where the issuer's
	// policy does not allow it as a last resort.
	NoQuestionFallback bool
	Issuer             string // shown in authenticator apps
}

// DefaultMFAConfig is the policy of issue 3.
var DefaultMFAConfig = MFAConfig{
	TrustFor:       30 * 24 * time.Hour,
	FlowLife:       10 * time.Minute,
	CodeLife:       10 * time.Minute,
	CodeTries:      5,
	ResendEvery:    30 * time.Second,
	SendsPerHour:   5,
	MemberAttempts: 10,
	SourceAttempts: 60,
	RecentSignIns:  10,
	Issuer:         "cardportal",
}

func (c MFAConfig) withDefaults() MFAConfig {
	d := DefaultMFAConfig
	if c.TrustFor == 0 {
		c.TrustFor = d.TrustFor
	}
	if c.FlowLife == 0 {
		c.FlowLife = d.FlowLife
	}
	if c.CodeLife == 0 {
		c.CodeLife = d.CodeLife
	}
	if c.CodeTries == 0 {
		c.CodeTries = d.CodeTries
	}
	if c.ResendEvery == 0 {
		c.ResendEvery = d.ResendEvery
	}
	if c.SendsPerHour == 0 {
		c.SendsPerHour = d.SendsPerHour
	}
	if c.MemberAttempts == 0 {
		c.MemberAttempts = d.MemberAttempts
	}
	if c.SourceAttempts == 0 {
		c.SourceAttempts = d.SourceAttempts
	}
	if c.RecentSignIns == 0 {
		c.RecentSignIns = d.RecentSignIns
	}
	if c.Issuer == "" {
		c.Issuer = d.Issuer
	}
	return c
}

// Device is a browser or app installation a member has signed in from. Only a hash of
// its id is stored; devices are per member, so a device id means nothing on another
// member's account.
type Device struct {
	ID           int64
	MemberID     MemberID
	IDHash       []byte
	Label        string // from the User-Agent, for the security page
	FirstSeen    time.Time
	LastSeen     time.Time
	TrustedUntil time.Time // zero when not trusted
	RevokedAt    time.Time
}

// Trusted reports whether the device skips step-up at now.
func (d Device) Trusted(now time.Time) bool {
	return d.RevokedAt.IsZero() && now.Before(d.TrustedUntil)
}

func deviceHash(id string) []byte {
	if !validDeviceID(id) {
		return nil
	}
	h := sha256.Sum256([]byte("device\x00" + id))
	return h[:]
}

// validDeviceID accepts the web's 43-character cookie and an app's own id: 16 to 128
// characters of base64url or UUID text. Anything else counts as no device.
func validDeviceID(id string) bool {
	if len(id) < 16 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// NewDeviceID returns a fresh random device id, for the web's device cookie and for
// app registrations that did not bring one.
func NewDeviceID() (string, error) {
	t, err := newToken()
	return string(t), err
}

// TOTPFactor is a member's authenticator-app enrolment.
type TOTPFactor struct {
	MemberID    MemberID
	SecretKeyID string // the seal key that sealed Secret
	Secret      []byte // sealed; never stored in clear
	CreatedAt   time.Time
	ConfirmedAt time.Time // zero while enrolment waits for the first code
	LastStep    int64     // the last accepted time step; codes at or before it are refused
}

// StepUp is a sign-in waiting for its second factor, or (Purpose other than
// PurposeSignIn) a signed-in member's re-identification (reidentify.go). Its token is
// kept only as a hash.
type StepUp struct {
	TokenHash  []byte
	MemberID   MemberID
	Purpose    string // PurposeSignIn or what the re-identification is for
	DeviceHash []byte // the device the password came from; nil if none
	Reasons    []Reason
	QuestionID string // the security question this flow asks, if that factor is offered
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// The one-time code last sent, as a keyed MAC; zero when none was sent.
	CodeMAC       []byte
	CodeChannel   Factor
	CodeExpiresAt time.Time
	CodeTries     int
}

// MFAStore keeps devices, step-up flows and second factors.
type MFAStore interface {
	// DeviceByHash returns the member's device with that id hash, revoked or not.
	// Returns NotFound.
	DeviceByHash(ctx context.Context, member MemberID, hash []byte) (Device, error)
	// ListDevices returns the member's devices that are not revoked, most recently
	// seen first.
	ListDevices(ctx context.Context, member MemberID) ([]Device, error)
	// RevokeDevice revokes one of the member's devices. Returns NotFound if the member
	// has no unrevoked device with that id.
	RevokeDevice(ctx context.Context, member MemberID, id int64, now time.Time) error

	// CreateStepUp stores f. An empty Purpose is stored as PurposeSignIn.
	CreateStepUp(ctx context.Context, f StepUp) error
	// StepUpByTokenHash returns the flow, expired or not. Returns NotFound, also for a
	// consumed flow.
	StepUpByTokenHash(ctx context.Context, hash []byte) (StepUp, error)
	// SetStepUpCode records a newly sent code on the flow and resets its tries.
	// Returns NotFound if the flow is gone.
	SetStepUpCode(ctx context.Context, hash, mac []byte, channel Factor, expires time.Time) error
	// ReserveCodeTry atomically counts one try of the flow's current code if fewer than
	// max were made, and reports whether it did; so concurrent guesses cannot exceed
	// max. Returns NotFound if the flow is gone.
	ReserveCodeTry(ctx context.Context, hash []byte, max int) (bool, error)
	// ConsumeStepUp deletes the flow. Returns NotFound if it was already gone, so of
	// two concurrent completions only one succeeds.
	ConsumeStepUp(ctx context.Context, hash []byte) error

	// TOTP returns the member's authenticator enrolment, confirmed or not. Returns
	// NotFound.
	TOTP(ctx context.Context, member MemberID) (TOTPFactor, error)
	// SaveTOTP inserts or replaces the member's enrolment.
	SaveTOTP(ctx context.Context, f TOTPFactor) error
	// AdvanceTOTP atomically records step as the last accepted one if it is later than
	// the stored one (and confirms the enrolment at now if it was not). Returns
	// Conflict if step is at or before the last accepted step (a replayed code) and
	// NotFound if there is no enrolment.
	AdvanceTOTP(ctx context.Context, member MemberID, step int64, now time.Time) error
	// DeleteTOTP removes the enrolment; it is not an error if there is none.
	DeleteTOTP(ctx context.Context, member MemberID) error

	// ReplaceRecoveryCodes replaces the member's recovery codes with the given MACs,
	// in one transaction.
	ReplaceRecoveryCodes(ctx context.Context, member MemberID, macs [][]byte, now time.Time) error
	// UseRecoveryCode atomically marks the member's unused code with that MAC used.
	// Returns NotFound if there is none (wrong, or already used).
	UseRecoveryCode(ctx context.Context, member MemberID, mac []byte, now time.Time) error
	// RecoveryCodesLeft counts the member's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, member MemberID) (int, error)

	// MFARequired reports whether the member asked for a second factor at every
	// sign-in (false when never set).
	MFARequired(ctx context.Context, member MemberID) (bool, error)
	// SetMFARequired records the member's choice.
	SetMFARequired(ctx context.Context, member MemberID, required bool) error
	// SecurityAnswers returns the member's security answers (hashes), ordered by
	// question id.
	SecurityAnswers(ctx context.Context, member MemberID) ([]SecurityAnswer, error)
}
