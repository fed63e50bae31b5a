package web

import (
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// Limits on a posted form, well above anything our forms produce, so that what a
// person can type is never refused but a crafted request is, before any of it
// reaches the services or a page.
const (
	maxFormFields = 40
	maxFieldBytes = 4 << 10 // a 256-character passphrase of 4-byte runes is 1 KiB
)

// readForm parses a posted form and refuses one that no page of ours could have
// sent: unreadable encoding, repeated or too many fields, over-long values, invalid
// UTF-8 or control characters. It writes the error page itself (413 or 400) and
// reports false; nothing has been changed at that point.
func (s *server) readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if err := r.ParseForm(); err != nil {
		if safehttp.TooLarge(err) {
			s.tooLarge(w, r)
		} else {
			s.badRequest(w, r)
		}
		return nil, false
	}
	if len(r.PostForm) > maxFormFields {
		s.badRequest(w, r)
		return nil, false
	}
	for _, vs := range r.PostForm {
		if len(vs) != 1 || !cleanText(vs[0]) {
			s.badRequest(w, r)
			return nil, false
		}
	}
	return r.PostForm, true
}

// cleanText reports whether v is text a form control can hold: bounded, valid UTF-8,
// with no control characters (single-line inputs cannot produce them; a NUL would
// also be refused by PostgreSQL, turning bad input into a server error).
func cleanText(v string) bool {
	if len(v) > maxFieldBytes || !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// returnPath makes a path safe to redirect to after the language switch: a
// same-site absolute path made only of the characters our routes use. Anything else
// ("//evil.example", "/\evil", a scheme, an encoded character) becomes "/", so the
// switcher can never be used as an open redirect.
func returnPath(p string) string {
	if len(p) == 0 || len(p) > 200 || p[0] != '/' || (len(p) > 1 && p[1] == '/') {
		return "/"
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '/' || c == '-' || c == '_' || c == '.':
		default:
			return "/"
		}
	}
	return p
}

// setLanguage stores the chosen locale for a year and goes back to the page the
// switcher was on.
func (s *server) setLanguage(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	if l, ok := locale.Parse(form.Get("lang")); ok {
		s.setCookie(w, r, langCookie, l.Code(), "/", 365*24*time.Hour)
	}
	redirect(w, r, returnPath(form.Get("return")))
}
