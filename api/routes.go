package api

import "net/http"

// route is one endpoint. path is both the ServeMux pattern's path and the OpenAPI
// path template ({id} means the same in both), so the contract test can compare the
// two directly.
type route struct {
	method string
	path   string
	auth   bool // requires "Authorization: Bearer <token>"
	handle func(s *server, c *call) (status int, body any, err error)
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// Whether a route needs a session, spelled out in the table below.
const (
	public = false
	bearer = true
)

// routes lists every endpoint of the API. NewHandler registers exactly these, and the
// OpenAPI contract test checks this same slice against openapi.json in both
// directions, so a route cannot be added, removed or moved without the document
// following.
var routes = []route{
	{http.MethodGet, "/api/openapi.json", public, (*server).openAPI},

	// Registration (SPEC ID1–ID3): prove the card, then choose credentials.
	{http.MethodPost, "/api/v1/registration/card", public, (*server).registerCard},
	{http.MethodGet, "/api/v1/registration/questions", public, (*server).securityQuestions},
	{http.MethodPost, "/api/v1/registration/complete", public, (*server).registerComplete},
	{http.MethodPost, "/api/v1/password/check", public, (*server).checkPassword},

	// Sign-in and sessions (SPEC ID5, ID6, ID10).
	{http.MethodPost, "/api/v1/sessions", public, (*server).signIn},
	{http.MethodGet, "/api/v1/sessions", bearer, (*server).listSessions},
	{http.MethodDelete, "/api/v1/sessions/current", bearer, (*server).signOut},
	{http.MethodDelete, "/api/v1/sessions/{id}", bearer, (*server).revokeSession},
	{http.MethodPost, "/api/v1/sessions/revoke-others", bearer, (*server).revokeOthers},

	// The member and their accounts (SPEC AC1) and security history (SPEC ID14).
	{http.MethodGet, "/api/v1/me", bearer, (*server).me},
	{http.MethodGet, "/api/v1/accounts", bearer, (*server).accounts},
	{http.MethodGet, "/api/v1/security/events", bearer, (*server).securityEvents},
}
