package main

import (
	"net/url"
	"strings"
)

// publicURL is the base of links in emails: -public-url, or else this instance's own
// address (fine for a developer's machine; behind a proxy it must be set).
func (c config) publicURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	scheme := "http"
	if c.TLSCert != "" || c.BehindTLS {
		scheme = "https"
	}
	return scheme + "://" + c.Addr
}

// publicURLOK reports whether -public-url, when set, is an absolute http(s) URL with
// no query or fragment, so "/reset?t=..." can be appended to it.
func (c config) publicURLOK() bool {
	if c.PublicURL == "" {
		return true
	}
	u, err := url.Parse(c.PublicURL)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}
