package main

import (
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/cardportal/cardportal/identity"
)

// passkeyFlags is the WebAuthn relying party (SPEC ID7 passkeys). A passkey is bound
// to a domain (the RP ID) and accepted only from the listed origins, so behind a proxy
// both must name the public address; with nothing set they are derived from
// -public-url, or else from the listen address as http://localhost:PORT, since
// browsers refuse WebAuthn on an IP address.
type passkeyFlags struct {
	Off     bool
	RPID    string
	Origins string // comma-separated
}

func (p *passkeyFlags) flags(e *envFlags) {
	e.boolean(&p.Off, "passkeys-off", false, "turn passkeys (WebAuthn) off")
	e.str(&p.RPID, "passkey-rp-id", "", "passkey relying-party id, the site's domain (default: from public-url, else localhost)")
	e.str(&p.Origins, "passkey-origins", "", "comma-separated origins passkeys are used from (default: from public-url, else http://localhost:PORT)")
}

func (p passkeyFlags) validate() error {
	for _, o := range p.origins() {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return errors.New("passkey-origins must be http(s) origins such as https://cards.example.com")
		}
	}
	if strings.ContainsAny(p.RPID, ":/ ") {
		return errors.New("passkey-rp-id must be a domain name, such as cards.example.com")
	}
	return nil
}

func (p passkeyFlags) origins() []string {
	var out []string
	for _, o := range strings.Split(p.Origins, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// passkeyConfig is the relying party for an instance listening on addr.
func (c config) passkeyConfig(addr net.Addr) identity.PasskeyConfig {
	pc := identity.PasskeyConfig{RPID: c.Passkey.RPID, Origins: c.Passkey.origins()}
	var base *url.URL
	if c.PublicURL != "" {
		base, _ = url.Parse(c.PublicURL) // validated at start-up
	} else {
		scheme := "http"
		if c.TLSCert != "" || c.BehindTLS {
			scheme = "https"
		}
		host, port, _ := net.SplitHostPort(addr.String())
		if net.ParseIP(host) != nil || host == "" {
			host = "localhost"
		}
		base = &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port)}
	}
	if pc.RPID == "" {
		pc.RPID = base.Hostname()
	}
	if len(pc.Origins) == 0 {
		pc.Origins = []string{base.Scheme + "://" + base.Host}
	}
	return pc
}
