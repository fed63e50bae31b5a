package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// Second factors and step-up at sign-in (SPEC ID7) on the web.

const (
	// deviceCookie names this browser to the member's device list: 256 random bits,
	// meaningless on any other member's account, kept for deviceFor (the longest
	// lifetime browsers honour) and only ever stored hashed on the server.
	deviceCookie = "device"
	deviceFor    = 400 * 24 * time.Hour
	// stepUpCookie holds the step-up flow token between the password and the second
	// factor, scoped to /login so no other page ever receives it.
	stepUpCookie = "stepup"
)

// withDevice makes sure the browser has a device cookie, setting a new one if not, and
// returns r carrying it so source() sees it on this very request.
func (s *server) withDevice(w http.ResponseWriter, r *http.Request) *http.Request {
	if c := cookie(r, deviceCookie); len(c) == 43 {
		return r
	}
	id, err := identity.NewDeviceID()
	if err != nil {
		return r // no device id only means the sign-in is treated as a new device
	}
	s.setCookie(w, r, deviceCookie, id, "/", deviceFor)
	old := r.Cookies()
	r = r.Clone(r.Context())
	r.Header.Del("Cookie")
	for _, c := range old {
		if c.Name != deviceCookie {
			r.AddCookie(c)
		}
	}
	r.AddCookie(&http.Cookie{Name: deviceCookie, Value: id})
	return r
}

type factorForm struct {
	Factor identity.Factor
	Code   field
	Trust  string // the checkbox id
	Label  string // what the submit button says
	Sent   bool   // for email/SMS: a code is on its way
	SendTo string // for email/SMS: the masked address
	// Options are a passkey's request options (JSON) for passkey.js; empty when the
	// ceremony could not be begun.
	Options string
}

type verifyView struct {
	Forms    []factorForm
	Question string
	TrustFor string // days
}

var verifyFlashes = map[string]string{"email": "mfa.sent.email", "sms": "mfa.sent.sms"}

func (s *server) verifyPage(w http.ResponseWriter, r *http.Request, status int, alert string) {
	loc := s.locale(r)
	ch, sent, err := s.Identity.PendingStepUp(r.Context(), identity.Token(cookie(r, stepUpCookie)), s.source(r, loc.Code()))
	if err != nil {
		if cp.ErrorKind(err) == cp.Internal {
			s.fail(w, r, err)
			return
		}
		s.clearCookie(w, r, stepUpCookie, "/login")
		redirect(w, r, "/login?m=stepupexpired")
		return
	}
	p := s.newPage(r, loc, "mfa.verify.title")
	p.Nav = "login"
	p.Alert = alert
	if alert == "" {
		if id, ok := verifyFlashes[r.URL.Query().Get("sent")]; ok {
			p.Flash = loc.T(id)
		}
	}
	v := verifyView{TrustFor: strconv.Itoa(int(s.Identity.Config().MFA.TrustFor / (24 * time.Hour)))}
	for _, f := range ch.Factors {
		ff := factorForm{Factor: f, Trust: "trust_" + string(f), Label: loc.T("mfa.verify.submit")}
		code := field{ID: string(f) + "_code", Type: "text", Label: loc.T("mfa.code." + string(f)),
			Autocomplete: "one-time-code", InputMode: "numeric", MaxLength: 6, Required: true, Verbatim: true}
		switch f {
		case identity.FactorEmail, identity.FactorSMS:
			ff.Sent = sent == f
			ff.SendTo = ch.Email
			if f == identity.FactorSMS {
				ff.SendTo = ch.Phone
			}
		case identity.FactorRecovery:
			code.InputMode, code.MaxLength, code.Autocomplete = "", 20, "off"
		case identity.FactorPasskey: // web/passkey.go
			if opts, err := s.Identity.BeginStepUpPasskey(r.Context(), identity.Token(cookie(r, stepUpCookie)), s.source(r, loc.Code())); err == nil {
				ff.Options = string(opts)
			}
		case identity.FactorQuestion:
			code = field{ID: "question_code", Type: "text", Label: loc.T("q." + ch.QuestionID), Autocomplete: "off",
				MaxLength: 200, Required: true}
			v.Question = ch.QuestionID
		}
		ff.Code = code
		v.Forms = append(v.Forms, ff)
	}
	p.Data = v
	s.render(w, r, status, "verify", p)
}

// showVerify is GET /login/verify: the second-factor page of a stepped-up sign-in.
func (s *server) showVerify(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s.verifyPage(w, r, http.StatusOK, "")
}

// verify is POST /login/verify: one factor's answer. Every wrong answer shows the same
// message, whatever was wrong.
func (s *server) verify(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	factor, _ := identity.ParseFactor(form.Get("factor"))
	// Each factor's form names its field after the factor, so the page's ids are unique.
	res, err := s.Identity.CompleteSignIn(r.Context(), identity.Token(cookie(r, stepUpCookie)), factor,
		form.Get(string(factor)+"_code"), form.Get("trust") == "1", s.source(r, loc.Code()))
	if err != nil {
		s.verifyError(w, r, loc, err)
		return
	}
	s.clearCookie(w, r, stepUpCookie, "/login")
	s.startSession(w, r, res.Token)
	redirect(w, r, "/account")
}

func (s *server) verifyError(w http.ResponseWriter, r *http.Request, loc locale.Locale, err error) {
	kind := cp.ErrorKind(err)
	switch kind {
	case cp.Internal:
		s.fail(w, r, err)
		return
	case cp.Expired:
		if cp.ErrorMsg(err) != "mfa.code.dead" {
			s.clearCookie(w, r, stepUpCookie, "/login")
			redirect(w, r, "/login?m=stepupexpired")
			return
		}
	}
	safehttp.RetryAfter(w, err, s.Now())
	msg := cp.ErrorMsg(err)
	if fs := cp.ErrorFields(err); len(fs) > 0 {
		msg = fs[0].Msg
	}
	s.verifyPage(w, r, safehttp.Status(kind), loc.T(msg))
}

// sendCode is POST /login/verify/send: a one-time code by email or SMS.
func (s *server) sendCode(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	ch, _ := identity.ParseFactor(form.Get("channel"))
	if err := s.Identity.SendCode(r.Context(), identity.Token(cookie(r, stepUpCookie)), ch, s.source(r, loc.Code())); err != nil {
		s.verifyError(w, r, loc, err)
		return
	}
	redirect(w, r, "/login/verify?sent="+string(ch))
}

// --- The security page's second factors and devices ---

type deviceView struct {
	ID       int64
	Device   string
	LastSeen stamp
	Trusted  string // "trusted until ..." or ""
}

type mfaView struct {
	Status           identity.FactorStatus
	TOTPPassword     field // each form has its own password field, so ids stay unique
	RecoveryPassword field
	RequiredPassword field
	Devices          []deviceView
	Passkeys         passkeyPanel // web/passkey.go
}

var mfaFlashes = map[string]string{
	"totp": "mfa.totp.added", "totpremoved": "mfa.totp.removed", "device": "mfa.device.forgotten",
	"required": "mfa.required.saved", "passkey": "passkey.added", "passkeyremoved": "passkey.removed",
}

func (s *server) mfaPage(w http.ResponseWriter, r *http.Request, status int, alert string) {
	sess, _ := sessionFrom(r.Context())
	loc := s.locale(r)
	st, err := s.Identity.Factors(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	devs, err := s.Identity.Devices(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, loc, "mfa.title")
	p.Nav = "security"
	p.Alert = alert
	if id, ok := mfaFlashes[r.URL.Query().Get("done")]; ok && alert == "" {
		p.Flash = loc.T(id)
	}
	pw := func(id string) field {
		return field{ID: id, Type: "password", Label: loc.T("mfa.password"), Help: loc.T("mfa.password.help"),
			Autocomplete: "current-password", Required: true}
	}
	v := mfaView{Status: st, TOTPPassword: pw("totp_password"), RecoveryPassword: pw("recovery_password"),
		RequiredPassword: pw("required_password")}
	if v.Passkeys, err = s.passkeyPanel(r, loc, sess.MemberID); err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.Now()
	for _, d := range devs {
		dv := deviceView{ID: d.ID, Device: describeDevice(loc, d.Label), LastSeen: newStamp(loc, d.LastSeen)}
		if d.Trusted(now) {
			dv.Trusted = loc.T("mfa.device.trusted", "time", when(loc, d.TrustedUntil))
		}
		v.Devices = append(v.Devices, dv)
	}
	p.Data = v
	s.render(w, r, status, "mfa", p)
}

// showMFA is GET /security/mfa.
func (s *server) showMFA(w http.ResponseWriter, r *http.Request) {
	s.mfaPage(w, r, http.StatusOK, "")
}

// mfaFail shows the page again with the error's message.
func (s *server) mfaFail(w http.ResponseWriter, r *http.Request, err error) {
	kind := cp.ErrorKind(err)
	if kind == cp.Internal {
		s.fail(w, r, err)
		return
	}
	if kind == cp.NotFound {
		s.notFound(w, r)
		return
	}
	msg := cp.ErrorMsg(err)
	if fs := cp.ErrorFields(err); len(fs) > 0 {
		msg = fs[0].Msg
	}
	safehttp.RetryAfter(w, err, s.Now())
	s.mfaPage(w, r, safehttp.Status(kind), s.locale(r).T(msg))
}

type totpView struct {
	Secret string
	QR     template.URL // a data: URL; the CSP allows img-src data:
	Code   field
}

// startTOTP is POST /security/mfa/totp: after the password, the secret and QR code,
// with the form for the app's first code. They are shown only on this response.
func (s *server) startTOTP(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	loc := s.locale(r)
	en, err := s.Identity.StartTOTP(r.Context(), sess.MemberID, form.Get("totp_password"), s.source(r, loc.Code()))
	if err != nil {
		s.mfaFail(w, r, err)
		return
	}
	p := s.newPage(r, loc, "mfa.totp.title")
	p.Nav = "security"
	p.Data = totpView{
		Secret: en.Secret,
		QR:     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRPNG)),
		Code: field{ID: "code", Type: "text", Label: loc.T("mfa.code.totp"), Autocomplete: "one-time-code",
			InputMode: "numeric", MaxLength: 6, Required: true, Verbatim: true},
	}
	s.render(w, r, http.StatusOK, "mfa_totp", p)
}

// confirmTOTP is POST /security/mfa/totp/confirm.
func (s *server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	if err := s.Identity.ConfirmTOTP(r.Context(), sess.MemberID, form.Get("code"), s.source(r, s.locale(r).Code())); err != nil {
		s.mfaFail(w, r, err)
		return
	}
	redirect(w, r, "/security/mfa?done=totp")
}

// removeTOTP is POST /security/mfa/totp/remove.
func (s *server) removeTOTP(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	if err := s.Identity.RemoveTOTP(r.Context(), sess.MemberID, form.Get("totp_password"), s.source(r, s.locale(r).Code())); err != nil {
		s.mfaFail(w, r, err)
		return
	}
	redirect(w, r, "/security/mfa?done=totpremoved")
}

// recoveryCodes is POST /security/mfa/recovery: a new set, shown once.
func (s *server) recoveryCodes(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	loc := s.locale(r)
	codes, err := s.Identity.NewRecoveryCodes(r.Context(), sess.MemberID, form.Get("recovery_password"), s.source(r, loc.Code()))
	if err != nil {
		s.mfaFail(w, r, err)
		return
	}
	p := s.newPage(r, loc, "mfa.recovery.title")
	p.Nav = "security"
	p.Data = codes
	s.render(w, r, http.StatusOK, "mfa_codes", p)
}

// forgetDevice is POST /security/devices/{id}/forget. Another member's device is not
// found.
func (s *server) forgetDevice(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return
	}
	if err := s.Identity.ForgetDevice(r.Context(), sess.MemberID, id, s.source(r, s.locale(r).Code())); err != nil {
		s.mfaFail(w, r, err)
		return
	}
	redirect(w, r, "/security/mfa?done=device")
}

// setRequired is POST /security/mfa/required: "always ask for a second factor".
func (s *server) setRequired(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	if err := s.Identity.SetMFARequired(r.Context(), sess.MemberID, form.Get("required_password"), form.Get("required") == "1",
		s.source(r, s.locale(r).Code())); err != nil {
		s.mfaFail(w, r, err)
		return
	}
	redirect(w, r, "/security/mfa?done=required")
}
