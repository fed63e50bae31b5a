package api

import (
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// Second factors and step-up at sign-in (SPEC ID7). When POST /api/v1/sessions
// answers 200 with a step_up, the app asks the member for a second factor and
// completes the sign-in at /api/v1/sessions/verify, from the same device_id.

type stepUpJSON struct {
	FlowToken string    `json:"flow_token"`
	Factors   []string  `json:"factors"`
	Reasons   []string  `json:"reasons"`
	Question  *question `json:"question,omitempty"`
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

type question struct {
	QuestionID string `json:"question_id"`
	Text       string `json:"text"`
}

type stepUpResponse struct {
	StepUp stepUpJSON `json:"step_up"`
}

func newStepUpResponse(c *call, ch *identity.Challenge) stepUpResponse {
	out := stepUpJSON{
		FlowToken: string(ch.FlowToken), Factors: []string{}, Reasons: []string{},
		Email: ch.Email, Phone: ch.Phone, ExpiresAt: ch.ExpiresAt.UTC(),
	}
	for _, f := range ch.Factors {
		out.Factors = append(out.Factors, string(f))
	}
	for _, r := range ch.Reasons {
		out.Reasons = append(out.Reasons, string(r))
	}
	if ch.QuestionID != "" {
		out.Question = &question{QuestionID: ch.QuestionID, Text: c.loc.T("q." + ch.QuestionID)}
	}
	return stepUpResponse{StepUp: out}
}

type verifyRequest struct {
	FlowToken   string `json:"flow_token"`
	Factor      string `json:"factor"`
	Code        string `json:"code"`
	TrustDevice bool   `json:"trust_device"`
	Client      string `json:"client"`
	DeviceID    string `json:"device_id"`
}

// verifySignIn completes a stepped-up sign-in with a second factor.
func (s *server) verifySignIn(c *call) (int, any, error) {
	var in verifyRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	var fields []cp.FieldError
	factor, ok := identity.ParseFactor(in.Factor)
	if !ok {
		fields = append(fields, cp.FieldError{Field: "factor", Msg: "error.field.invalid"})
	}
	if in.Code == "" {
		fields = append(fields, cp.FieldError{Field: "code", Msg: "error.field.required"})
	}
	client, err := parseClient(in.Client)
	if err != nil {
		fields = append(fields, cp.ErrorFields(err)...)
	}
	if len(fields) > 0 {
		return 0, nil, cp.InvalidFields("api.verifySignIn", fields...)
	}
	c.src.Client, c.src.DeviceID = client, in.DeviceID
	res, err := s.ident.CompleteSignIn(c.r.Context(), identity.Token(in.FlowToken), factor, in.Code, in.TrustDevice, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, newSessionResponse(res.Token, res.Session), nil
}

type sendCodeRequest struct {
	FlowToken string `json:"flow_token"`
	Channel   string `json:"channel"`
	DeviceID  string `json:"device_id"`
}

// sendCode sends a one-time code for a step-up by email or SMS.
func (s *server) sendCode(c *call) (int, any, error) {
	var in sendCodeRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	ch, ok := identity.ParseFactor(in.Channel)
	if !ok || (ch != identity.FactorEmail && ch != identity.FactorSMS) {
		return 0, nil, cp.InvalidFields("api.sendCode", cp.FieldError{Field: "channel", Msg: "error.field.invalid"})
	}
	c.src.DeviceID = in.DeviceID
	if err := s.ident.SendCode(c.r.Context(), identity.Token(in.FlowToken), ch, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

type factorsJSON struct {
	TOTP         bool   `json:"totp"`
	RecoveryLeft int    `json:"recovery_codes_left"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	Required     bool   `json:"required"`
}

// factors shows the member's second factors.
func (s *server) factors(c *call) (int, any, error) {
	st, err := s.ident.Factors(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, factorsJSON{TOTP: st.TOTP, RecoveryLeft: st.RecoveryLeft, Email: st.Email, Phone: st.Phone, Required: st.Required}, nil
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (s *server) readPassword(c *call) (string, error) {
	var in passwordRequest
	if err := decode(c, &in); err != nil {
		return "", err
	}
	if in.Password == "" {
		return "", cp.InvalidFields("api.password", cp.FieldError{Field: "password", Msg: "error.field.required"})
	}
	return in.Password, nil
}

// startTOTP begins authenticator enrolment; the secret is shown only in this answer.
func (s *server) startTOTP(c *call) (int, any, error) {
	pw, err := s.readPassword(c)
	if err != nil {
		return 0, nil, err
	}
	en, err := s.ident.StartTOTP(c.r.Context(), c.sess.MemberID, pw, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, struct {
		Secret string `json:"secret"`
		URL    string `json:"otpauth_url"`
	}{en.Secret, en.URL}, nil
}

// confirmTOTP finishes enrolment with the app's first code.
func (s *server) confirmTOTP(c *call) (int, any, error) {
	var in struct {
		Code string `json:"code"`
	}
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if err := s.ident.ConfirmTOTP(c.r.Context(), c.sess.MemberID, in.Code, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// removeTOTP removes the authenticator app.
func (s *server) removeTOTP(c *call) (int, any, error) {
	pw, err := s.readPassword(c)
	if err != nil {
		return 0, nil, err
	}
	if err := s.ident.RemoveTOTP(c.r.Context(), c.sess.MemberID, pw, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// newRecoveryCodes replaces the recovery codes; they are shown only in this answer.
func (s *server) newRecoveryCodes(c *call) (int, any, error) {
	pw, err := s.readPassword(c)
	if err != nil {
		return 0, nil, err
	}
	codes, err := s.ident.NewRecoveryCodes(c.r.Context(), c.sess.MemberID, pw, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, struct {
		Codes []string `json:"codes"`
	}{codes}, nil
}

type deviceJSON struct {
	ID           int64      `json:"id"`
	Label        string     `json:"label"`
	FirstSeen    time.Time  `json:"first_seen"`
	LastSeen     time.Time  `json:"last_seen"`
	TrustedUntil *time.Time `json:"trusted_until,omitempty"`
}

// devices lists the devices the member has signed in from.
func (s *server) devices(c *call) (int, any, error) {
	ds, err := s.ident.Devices(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Devices []deviceJSON `json:"devices"`
	}{Devices: []deviceJSON{}}
	now := s.now()
	for _, d := range ds {
		j := deviceJSON{ID: d.ID, Label: d.Label, FirstSeen: d.FirstSeen.UTC(), LastSeen: d.LastSeen.UTC()}
		if d.Trusted(now) {
			t := d.TrustedUntil.UTC()
			j.TrustedUntil = &t
		}
		out.Devices = append(out.Devices, j)
	}
	return http.StatusOK, out, nil
}

// forgetDevice ends a device's trust. Another member's device is not found.
func (s *server) forgetDevice(c *call) (int, any, error) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, cp.E("api.forgetDevice", cp.NotFound, "", nil)
	}
	if err := s.ident.ForgetDevice(c.r.Context(), c.sess.MemberID, id, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// setRequired records whether the member wants a second factor at every sign-in.
func (s *server) setRequired(c *call) (int, any, error) {
	var in struct {
		Password string `json:"password"`
		Required bool   `json:"required"`
	}
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if err := s.ident.SetMFARequired(c.r.Context(), c.sess.MemberID, in.Password, in.Required, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
