// Package identity is who a card member is online: registration linked to a card,
// credentials and the password policy, sign-in with lockout and throttling, sessions,
// and the security history. It imports no HTTP, SQL or transport: storage is behind the
// interfaces below, which the sqlstore package implements for SQLite and PostgreSQL.
package identity

import (
	"context"
	"time"

	"github.com/cardportal/cardportal/card"
)

// MemberID identifies a registered online member.
type MemberID int64

// Role is the card member's place on the account.
type Role string

// Roles on an account: the basic card member owns it; additional members hold cards on it.
const (
	Basic      Role = "basic"
	Additional Role = "additional"
)

// Member is a registered online user.
type Member struct {
	ID           MemberID
	UserID       string // as chosen, for display
	CardholderID int64
	Name         string
	Email        string
	Phone        string
	Locale       string
	CreatedAt    time.Time
}

// Credential is a member's password state.
type Credential struct {
	MemberID     MemberID
	PasswordHash string // PHC string
	ChangedAt    time.Time
}

// CardHolder is the issuer's record of a card and the person it was issued to, as
// registration checks it. It comes from the issuer's systems, not from the member.
type CardHolder struct {
	CardholderID  int64
	AccountID     int64
	CardID        int64
	CardLast      string // the last digits printed on screens (4 or 5)
	Role          Role
	Name          string
	DateOfBirth   time.Time // a civil date at UTC midnight
	NationalIDMAC []byte    // keyed MAC of the last 4 of the national ID; never stored in clear
	BasicDOB      time.Time // the basic card member's date of birth, for additional members
	Expiry        card.Expiry
	Active        bool     // false for closed, lost or stolen cards: these cannot register
	MemberID      MemberID // non-zero once registered
	Email         string
	Phone         string
}

// NewMember is everything registration writes, in one transaction.
type NewMember struct {
	UserID       string
	CardholderID int64
	Name         string
	Email        string
	Phone        string
	Locale       string
	PasswordHash string
	Answers      []SecurityAnswer
	CreatedAt    time.Time
}

// SecurityAnswer is a chosen security question and the hash of its normalised answer.
type SecurityAnswer struct {
	QuestionID string
	AnswerHash string
}

// Client says what kind of program holds a session; it decides the idle timeout.
type Client string

// Clients: a browser on the web pages, or the issuer's mobile app through the API.
const (
	Web Client = "web"
	App Client = "app"
)

// Session is a signed-in member's session. Only a hash of its token is stored.
type Session struct {
	ID        int64
	TokenHash []byte
	MemberID  MemberID
	// CardholderID is the member's (Member.CardholderID), read with the session so
	// that a request for the member's own accounts needs no second look-up. Set on
	// sessions read from the store.
	CardholderID int64
	Client       Client
	CreatedAt    time.Time
	LastSeenAt   time.Time
	ExpiresAt    time.Time // absolute end
	IdleTimeout  time.Duration
	IP           string
	UserAgent    string
	RevokedAt    time.Time
	// MustChangePassword holds a session signed in with an expired password (SPEC
	// ID11) to changing it: Authenticate refuses it with "password.expired".
	MustChangePassword bool
}

// SessionStart is what a sign-in writes when it starts a session. It is stored in one
// transaction (SessionStore.StartSession), so no session exists without its sign-in
// event, and a sign-in costs one commit instead of one per row.
type SessionStart struct {
	Session *Session
	// Events are recorded in order, as EventStore.RecordEvent does, their IDs set.
	Events []*Event
	// Device, when not nil, is the member's device the sign-in came from: inserted,
	// or, if one with the same hash exists, updated in place (label, last-seen time,
	// trust; revocation cleared; first-seen time kept). Its ID is set.
	Device *Device
	// ResetAttempts clears the member's lockout counter and any lock, as
	// MemberStore.ResetPasswordAttempts does: the sign-in proved the password.
	ResetAttempts bool
}

// Alive reports whether the session may still be used at now.
func (s Session) Alive(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt) && now.Before(s.LastSeenAt.Add(s.IdleTimeout))
}

// EventKind names a security event.
type EventKind string

// Security events, recorded append-only.
const (
	EventSignInOK       EventKind = "signin.ok"
	EventSignInFail     EventKind = "signin.fail"
	EventSignInLocked   EventKind = "signin.locked" // refused because the account was locked
	EventLocked         EventKind = "locked"
	EventLogout         EventKind = "logout"
	EventRegistered     EventKind = "registered"
	EventRegisterFail   EventKind = "register.fail"
	EventSessionRevoked EventKind = "session.revoked"
	EventRehashed       EventKind = "password.rehashed"
)

// Event is one entry of the security history. It never holds a secret.
type Event struct {
	ID        int64
	MemberID  MemberID // zero when no member is known
	Kind      EventKind
	At        time.Time
	IP        string
	UserAgent string
	Detail    string
}

// Source is where a request came from, for throttling and the security history.
type Source struct {
	IP        string
	UserAgent string
	Client    Client
	Locale    string
	// DeviceID names the browser (the long-lived device cookie) or app installation
	// (its device_id) the request came from; empty when unknown. It is a bearer
	// secret like a token and is only ever stored hashed.
	DeviceID string
}

// Attempt is the outcome of reserving a password check against the lockout counter.
type Attempt struct {
	Allowed     bool      // the password may be checked
	Failures    int       // unconfirmed attempts including this one, when Allowed
	LockedUntil time.Time // set when this attempt is the last one before a lock, or when refused
}

// Flow is a multi-step sign-in process stored between requests (registration now;
// recovery and step-up later). Its token is kept only as a hash.
type Flow struct {
	TokenHash    []byte
	Kind         string
	CardholderID int64
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// CardHolderStore finds the issuer's card records.
type CardHolderStore interface {
	// CardHolderByFingerprint returns the card with the given PAN fingerprint and its
	// holder. Returns NotFound if there is no such card.
	CardHolderByFingerprint(ctx context.Context, fingerprint []byte) (CardHolder, error)
	// CardHolderByID returns a card holder by the holder's id (the card is the holder's
	// newest active card). Returns NotFound if there is none.
	CardHolderByID(ctx context.Context, cardholderID int64) (CardHolder, error)
}

// MemberStore keeps members and their credentials.
type MemberStore interface {
	// CreateMember writes the member, the credential, the first password-history entry
	// and the security answers, and links the card holder, in one transaction. Returns
	// Conflict with Msg "userid.taken" if the User ID is taken regardless of case, and
	// Conflict with Msg "register.already" if the card holder is already registered;
	// in both cases nothing is written.
	CreateMember(ctx context.Context, m NewMember) (Member, error)
	// MemberByUserID looks a member up by User ID regardless of case. Returns NotFound.
	MemberByUserID(ctx context.Context, userID string) (Member, Credential, error)
	// MemberByID returns a member. Returns NotFound.
	MemberByID(ctx context.Context, id MemberID) (Member, error)
	// SetPasswordHash replaces the stored hash without touching history or change time:
	// it is for rehashing the same password with stronger parameters.
	SetPasswordHash(ctx context.Context, id MemberID, hash string) error
	// BeginPasswordAttempt atomically reserves one password check against the lockout
	// counter, so that no more than max checks can run between a success and a lock,
	// whatever the concurrency and however many instances share the store. A lock whose
	// time has passed resets the counter. The attempt that brings the count to max sets
	// LockedUntil to now+lockFor at once, so a crash mid-check still ends in a lock.
	// When the account is locked, returns Allowed=false and the lock's end.
	BeginPasswordAttempt(ctx context.Context, id MemberID, now time.Time, max int, lockFor time.Duration) (Attempt, error)
	// ResetPasswordAttempts clears the counter and any lock after a correct password.
	ResetPasswordAttempts(ctx context.Context, id MemberID) error
}

// SessionStore keeps sessions. Any instance may read a session another one made.
type SessionStore interface {
	// StartSession stores st.Session, setting its ID, and in the same transaction the
	// rest of st: either all of it is stored or none. Returns NotFound if
	// st.ResetAttempts names an unknown member.
	StartSession(ctx context.Context, st SessionStart) error
	// SessionByTokenHash returns the session. Returns NotFound.
	SessionByTokenHash(ctx context.Context, hash []byte) (Session, error)
	// TouchSession records activity at now.
	TouchSession(ctx context.Context, id int64, now time.Time) error
	// RevokeSession ends one of the member's sessions. Returns NotFound if the member has
	// no live session with that id.
	RevokeSession(ctx context.Context, member MemberID, id int64, now time.Time) error
	// RevokeSessions ends all the member's live sessions except the one with id except
	// (0 for none) and returns how many it ended.
	RevokeSessions(ctx context.Context, member MemberID, except int64, now time.Time) (int, error)
	// ListSessions returns the member's sessions that are not revoked and not past their
	// absolute expiry, newest first.
	ListSessions(ctx context.Context, member MemberID, now time.Time) ([]Session, error)
}

// EventStore is the append-only security history.
type EventStore interface {
	// RecordEvent appends e and sets e.ID.
	RecordEvent(ctx context.Context, e *Event) error
	// ListEvents returns the member's newest events first, at most limit of them.
	ListEvents(ctx context.Context, member MemberID, limit int) ([]Event, error)
	// RecentEvents returns the member's newest events of the given kinds, newest
	// first, at most limit of them.
	RecentEvents(ctx context.Context, member MemberID, kinds []EventKind, limit int) ([]Event, error)
	// EventKindsSince returns the distinct kinds of the member's events with an ID
	// greater than after, in no particular order.
	EventKindsSince(ctx context.Context, member MemberID, after int64) ([]EventKind, error)
}

// Throttle counts hits per key in fixed time windows, shared by every instance.
type Throttle interface {
	// Hit records one hit for key at now and returns the number of hits in the window
	// containing now (including this one) and when that window ends. Keys never hold
	// secrets.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (count int, windowEnd time.Time, err error)
}

// FlowStore keeps multi-step flows.
type FlowStore interface {
	// CreateFlow stores f.
	CreateFlow(ctx context.Context, f Flow) error
	// FlowByTokenHash returns the flow. Returns NotFound (also for a consumed flow).
	FlowByTokenHash(ctx context.Context, hash []byte) (Flow, error)
	// DeleteFlow removes a flow; it is not an error if it is already gone.
	DeleteFlow(ctx context.Context, hash []byte) error
}

// Store is everything the identity service needs from storage.
type Store interface {
	CardHolderStore
	MemberStore
	SessionStore
	EventStore
	Throttle
	FlowStore
	MFAStore
	PasswordStore      // password.go
	LicenceStore       // licence.go
	ContactStore       // contact.go
	RecoveryStore      // recovery.go
	EmailRecoveryStore // recovery_email.go
	PasskeyStore       // passkey.go
}
