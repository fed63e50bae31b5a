package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// Passkeys (WebAuthn, SPEC ID7). Each ceremony is two calls: the first returns the
// options for the platform's WebAuthn API (the JSON form of WebAuthn Level 3) and a
// ceremony token, the second sends the credential's JSON back with that token. As a
// step-up factor, the options come from /api/v1/sessions/verify/passkey and the
// credential's JSON goes, as text, in the "code" of /api/v1/sessions/verify.

type ceremonyJSON struct {
	CeremonyToken string          `json:"ceremony_token,omitempty"`
	Options       json.RawMessage `json:"options"`
}

type passkeyJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

func newPasskeyJSON(p identity.Passkey) passkeyJSON {
	j := passkeyJSON{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt.UTC()}
	if !p.LastUsedAt.IsZero() {
		t := p.LastUsedAt.UTC()
		j.LastUsedAt = &t
	}
	return j
}

// passkeys lists the member's passkeys.
func (s *server) passkeys(c *call) (int, any, error) {
	pks, err := s.ident.Passkeys(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Passkeys []passkeyJSON `json:"passkeys"`
	}{Passkeys: []passkeyJSON{}}
	for _, p := range pks {
		out.Passkeys = append(out.Passkeys, newPasskeyJSON(p))
	}
	return http.StatusOK, out, nil
}

// startPasskey begins enrolment after the password is re-entered.
func (s *server) startPasskey(c *call) (int, any, error) {
	pw, err := s.readPassword(c)
	if err != nil {
		return 0, nil, err
	}
	cer, err := s.ident.BeginPasskeyEnrolment(c.r.Context(), c.sess.MemberID, pw, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ceremonyJSON{CeremonyToken: string(cer.Token), Options: cer.Options}, nil
}

// finishPasskey stores the new passkey.
func (s *server) finishPasskey(c *call) (int, any, error) {
	var in struct {
		CeremonyToken string          `json:"ceremony_token"`
		Name          string          `json:"name"`
		Credential    json.RawMessage `json:"credential"`
	}
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	p, err := s.ident.FinishPasskeyEnrolment(c.r.Context(), c.sess.MemberID, identity.Token(in.CeremonyToken), in.Name, in.Credential, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, newPasskeyJSON(p), nil
}

// removePasskey removes a passkey after the password is re-entered. Another member's
// passkey is not found.
func (s *server) removePasskey(c *call) (int, any, error) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, cp.E("api.removePasskey", cp.NotFound, "", nil)
	}
	pw, err := s.readPassword(c)
	if err != nil {
		return 0, nil, err
	}
	if err := s.ident.RemovePasskey(c.r.Context(), c.sess.MemberID, id, pw, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// startPasskeySignIn begins a passwordless sign-in.
func (s *server) startPasskeySignIn(c *call) (int, any, error) {
	var in struct {
		Client   string `json:"client"`
		DeviceID string `json:"device_id"`
	}
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	client, err := parseClient(in.Client)
	if err != nil {
		return 0, nil, err
	}
	c.src.Client, c.src.DeviceID = client, in.DeviceID
	cer, err := s.ident.BeginPasskeySignIn(c.r.Context(), c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ceremonyJSON{CeremonyToken: string(cer.Token), Options: cer.Options}, nil
}

// passkeySignIn finishes a passwordless sign-in: a session, with no step-up.
func (s *server) passkeySignIn(c *call) (int, any, error) {
	var in struct {
		CeremonyToken string          `json:"ceremony_token"`
		Credential    json.RawMessage `json:"credential"`
		Client        string          `json:"client"`
		DeviceID      string          `json:"device_id"`
	}
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	client, err := parseClient(in.Client)
	if err != nil {
		return 0, nil, err
	}
	c.src.Client, c.src.DeviceID = client, in.DeviceID
	res, err := s.ident.PasskeySignIn(c.r.Context(), identity.Token(in.CeremonyToken), in.Credential, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, newSessionResponse(res.Token, res.Session), nil
}

// stepUpPasskey begins a step-up flow's passkey ceremony.
func (s *server) stepUpPasskey(c *call) (int, any, error) {
	var in struct {
		FlowToken string `json:"flow_token"`
		DeviceID  string `json:"device_id"`
	}
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	c.src.DeviceID = in.DeviceID
	opts, err := s.ident.BeginStepUpPasskey(c.r.Context(), identity.Token(in.FlowToken), c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ceremonyJSON{Options: opts}, nil
}
