package web

import (
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
)

// eventLimit is how much security history the page shows.
const eventLimit = 20

// shownEvents are the security events members see, with their messages. Internal
// bookkeeping (password rehashes, failed registrations with no member) stays out.
var shownEvents = map[identity.EventKind]string{
	identity.EventSignInOK:        "event.signin.ok",
	identity.EventSignInFail:      "event.signin.fail",
	identity.EventSignInLocked:    "event.signin.locked",
	identity.EventLocked:          "event.locked",
	identity.EventLogout:          "event.logout",
	identity.EventRegistered:      "event.registered",
	identity.EventSessionRevoked:  "event.session.revoked",
	identity.EventStepUp:          "event.signin.stepup",
	identity.EventStepUpFail:      "event.signin.stepup.fail",
	identity.EventFactorAdded:     "event.mfa.added",
	identity.EventFactorRemoved:   "event.mfa.removed",
	identity.EventRecoveryNew:     "event.mfa.recovery.new",
	identity.EventDeviceForgotten: "event.device.forgotten",
	// Password and contact events (password.go, contact.go).
	identity.EventPasswordChanged:  "event.password.changed",
	identity.EventPasswordExpired:  "event.password.expired",
	identity.EventContactConfirmed: "event.contact.confirmed",
}

var securityFlashes = map[string]string{"revoked": "security.revoked", "revokedall": "security.revokedall"}

type stamp struct {
	Text string // in the locale's format
	ISO  string // for <time datetime>
}

func newStamp(loc locale.Locale, t time.Time) stamp {
	return stamp{Text: when(loc, t), ISO: t.UTC().Format(time.RFC3339)}
}

type eventView struct {
	At     stamp
	Event  string
	IP     string
	Device string
}

type sessionView struct {
	ID       int64
	Current  bool
	Device   string
	IP       string
	Started  stamp
	LastSeen stamp
}

type securityView struct {
	Events   []eventView
	Sessions []sessionView
	Others   bool // there is a session other than this one to sign out
}

// security is GET /security: recent sign-ins (SPEC ID14) and live sessions (ID10).
func (s *server) security(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	events, err := s.Identity.Events(r.Context(), sess.MemberID, eventLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sessions, err := s.Identity.Sessions(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "security.title")
	p.Nav = "security"
	if id, ok := securityFlashes[r.URL.Query().Get("done")]; ok {
		p.Flash = loc.T(id)
	}
	var v securityView
	for _, e := range events {
		id, ok := shownEvents[e.Kind]
		if !ok {
			continue
		}
		v.Events = append(v.Events, eventView{At: newStamp(loc, e.At), Event: loc.T(id), IP: e.IP, Device: describeDevice(loc, e.UserAgent)})
	}
	for _, x := range sessions {
		cur := x.ID == sess.ID
		v.Others = v.Others || !cur
		v.Sessions = append(v.Sessions, sessionView{
			ID: x.ID, Current: cur, Device: describeDevice(loc, x.UserAgent), IP: x.IP,
			Started: newStamp(loc, x.CreatedAt), LastSeen: newStamp(loc, x.LastSeenAt),
		})
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "security", p)
}

// revokeSession is POST /security/sessions/{id}/revoke.
func (s *server) revokeSession(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return
	}
	if err := s.Identity.RevokeSession(r.Context(), sess.MemberID, id, s.source(r, s.locale(r).Code())); err != nil {
		// Someone else's session, or one already gone, is simply not found.
		if cp.ErrorKind(err) == cp.NotFound {
			s.notFound(w, r)
			return
		}
		s.fail(w, r, err)
		return
	}
	if id == sess.ID {
		// The page offers no button for this, but a hand-made request that ends the
		// current session is a logout.
		s.clearCookie(w, r, sessionCookie, "/")
		redirect(w, r, "/login?m=loggedout")
		return
	}
	redirect(w, r, "/security?done=revoked")
}

// revokeOthers is POST /security/sessions/revoke-all: "sign out everywhere" ends
// every other session; the one in use stays.
func (s *server) revokeOthers(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	if _, err := s.Identity.RevokeOtherSessions(r.Context(), sess.MemberID, sess.ID, s.source(r, s.locale(r).Code())); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/security?done=revokedall")
}
