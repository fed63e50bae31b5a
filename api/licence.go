package api

import (
	"net/http"
)

// The mobile licence agreement (SPEC ID12). An app installation reads the current
// version's text, then records its acceptance; until it has, signing in or finishing
// registration with client "app" answers 403 licence.required.

type licenceResponse struct {
	Version string `json:"version"`
	Text    string `json:"text"`
}

// licence is GET /api/v1/licence: the version to accept and its text in the
// caller's language. 404 when no agreement is required.
func (s *server) licence(c *call) (int, any, error) {
	v := s.ident.LicenceVersion()
	if v == "" {
		return 0, nil, &problem{status: http.StatusNotFound, code: "not_found", msg: "error.notfound"}
	}
	return http.StatusOK, licenceResponse{Version: v, Text: c.loc.T("licence.text", "version", v)}, nil
}

type licenceAcceptRequest struct {
	Version  string `json:"version"`
	DeviceID string `json:"device_id"`
}

// acceptLicence is POST /api/v1/licence/accept.
func (s *server) acceptLicence(c *call) (int, any, error) {
	var in licenceAcceptRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	c.src.DeviceID = in.DeviceID
	if err := s.ident.AcceptLicence(c.r.Context(), in.Version, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
