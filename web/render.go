package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/locale"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageTemplate is one page: the shared layout and partials plus the page's own
// "main" block. Pages are parsed separately so each can define "main" without
// clashing with the others.
type pageTemplate struct{ t *template.Template }

// pageNames are the templates/<name>.html files that are whole pages.
var pageNames = []string{"login", "register", "credentials", "account", "security", "outbox", "error", "verify", "mfa", "mfa_totp", "mfa_codes", "transactions"}

func mustParsePages() map[string]*pageTemplate {
	// txtable.html is a partial (the transaction table) that more than one page uses.
	base := template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/txtable.html"))
	pages := make(map[string]*pageTemplate, len(pageNames))
	for _, name := range pageNames {
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
		pages[name] = &pageTemplate{t: t}
	}
	return pages
}

// assets are the static files' URLs, each with a content hash in the query so they
// can be cached for a year and still change the moment a new build ships.
type assets struct {
	CSS, JS, Icon string
	Passkey       string // passkey.js, loaded only by the pages with a passkey ceremony
	files         http.Handler
}

func mustLoadAssets() assets {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	url := func(name string) string {
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			panic(err) // embedded at build time: a missing file is a build defect
		}
		sum := sha256.Sum256(b)
		return "/static/" + name + "?v=" + hex.EncodeToString(sum[:6])
	}
	return assets{CSS: url("app.css"), JS: url("app.js"), Icon: url("icon.svg"), Passkey: url("passkey.js"),
		files: http.StripPrefix("/static", http.FileServerFS(sub))}
}

// static serves the embedded files with long cache lifetimes; the versioned URLs
// above make that safe. Directory listings are not served.
func (s *server) static(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/") {
		s.notFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	s.assets.files.ServeHTTP(w, r)
}

// page is what the layout renders; Data holds the page's own view.
type page struct {
	Loc      locale.Locale
	Title    string // translated page title
	Nav      string // the current navigation item, for aria-current
	SignedIn bool
	Path     string // where the language switcher returns to
	Langs    []langOption
	Notice   string        // maintenance notice (sign-in pages only)
	Flash    string        // a status message (role=status)
	Alert    string        // an error not tied to any field (role=alert)
	Summary  []summaryItem // field errors, linked to their fields
	Assets   assets
	Data     any
}

type langOption struct {
	Code, Name, Lang string
	Selected         bool
}

type summaryItem struct{ Field, Text string }

// newPage starts a page in loc with the translated title.
func (s *server) newPage(r *http.Request, loc locale.Locale, titleID string) *page {
	p := &page{Loc: loc, Title: loc.T(titleID), Path: returnPath(r.URL.Path), Assets: s.assets}
	for _, l := range locale.Supported() {
		p.Langs = append(p.Langs, langOption{Code: l.Code(), Name: l.Name(), Lang: l.HTMLLang(), Selected: l == loc})
	}
	if _, ok := sessionFrom(r.Context()); ok {
		p.SignedIn = true
	}
	return p
}

// render writes a whole page. It renders into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := s.pages[name].t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.logError(r.Context(), r, fmt.Errorf("render %s: %w", name, err))
		if name != "error" {
			s.errorPage(w, r, http.StatusInternalServerError, "error.internal")
			return
		}
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages carry personal data (and the forms, what was typed): no cache, shared or
	// private, may keep them.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorView struct{ Heading string }

// errorPage renders a localised error page with the given status and message.
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, status int, msgID string) {
	loc := s.locale(r)
	p := s.newPage(r, loc, msgID)
	p.Data = errorView{Heading: loc.T(msgID)}
	s.render(w, r, status, "error", p)
}

// fail logs an unexpected error and shows the generic error page.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.logError(r.Context(), r, err)
	s.errorPage(w, r, http.StatusInternalServerError, "error.internal")
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	r = s.withOptionalSession(r)
	s.errorPage(w, r, http.StatusNotFound, "error.notfound")
}

func (s *server) tooLarge(w http.ResponseWriter, r *http.Request) {
	// The rest of an oversized body is not read; closing the connection stops the
	// client from sending it.
	w.Header().Set("Connection", "close")
	s.errorPage(w, r, http.StatusRequestEntityTooLarge, "error.toolarge")
}

func (s *server) badRequest(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusBadRequest, "error.badrequest")
}

func (s *server) crossOrigin(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusForbidden, "error.csrf")
}

// locale picks the request's locale: the language cookie (an explicit choice) first,
// then Accept-Language.
func (s *server) locale(r *http.Request) locale.Locale {
	return locale.Negotiate(cookie(r, langCookie), r.Header.Get("Accept-Language"))
}

// when formats an instant for the page. Members' time zones are not known yet, so
// times are shown in UTC and say so; app.js re-renders <time> elements in the
// browser's zone where it can.
func when(loc locale.Locale, t time.Time) string {
	return loc.DateTime(t, time.UTC) + " UTC"
}

// field is one form control as the "input" partial renders it.
type field struct {
	ID           string
	Type         string
	Label        string
	Help         string
	Errors       []string
	Value        string
	Autocomplete string
	InputMode    string
	MaxLength    int
	Required     bool
	Verbatim     bool // no autocapitalisation or spellcheck (User IDs, codes)
	Placeholder  string
	SummaryLabel string // names the control in the error summary when Label is ambiguous
}

// Describe is the aria-describedby list: the hint, then the error.
func (f field) Describe() string {
	var ids []string
	if f.Help != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if len(f.Errors) > 0 {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// formErrors collects field errors, translated, in the order they were found.
type formErrors struct {
	loc    locale.Locale
	args   []string            // placeholder values for the messages, e.g. "min", "12"
	byID   map[string][]string // translated texts per control
	raw    map[string][]string // message IDs per control, e.g. which password rules failed
	order  []string
	prefix map[string]string // message wrapping per field, e.g. password rules
}

func newFormErrors(loc locale.Locale, args ...string) *formErrors {
	return &formErrors{loc: loc, args: args, byID: map[string][]string{}, raw: map[string][]string{}, prefix: map[string]string{}}
}

func (e *formErrors) add(fieldID, msgID string) {
	text := e.loc.T(msgID, e.args...)
	if wrap, ok := e.prefix[fieldID]; ok && strings.HasPrefix(msgID, "pw.rule.") {
		text = e.loc.T(wrap, "rule", text)
	}
	if _, ok := e.byID[fieldID]; !ok {
		e.order = append(e.order, fieldID)
	}
	e.byID[fieldID] = append(e.byID[fieldID], text)
	e.raw[fieldID] = append(e.raw[fieldID], msgID)
}

// addAll adds the field problems an identity error carries, mapping the service's
// field names to the form's control IDs.
func (e *formErrors) addAll(fs []cp.FieldError, controlFor func(string) string) {
	for _, f := range fs {
		e.add(controlFor(f.Field), f.Msg)
	}
}

func (e *formErrors) empty() bool { return len(e.order) == 0 }

// summary is the list at the top of the form, in the order of the form's controls,
// each entry naming its control and linking to it. An error for a control the form
// does not have (a service change the page has not caught up with) is still listed,
// without a link, rather than silently dropped.
func (e *formErrors) summary(fields ...field) []summaryItem {
	var out []summaryItem
	shown := map[string]bool{}
	for _, f := range fields {
		label := f.Label
		if f.SummaryLabel != "" {
			label = f.SummaryLabel
		}
		for _, t := range e.byID[f.ID] {
			out = append(out, summaryItem{Field: f.ID, Text: e.loc.T("error.field", "field", label, "error", t)})
		}
		shown[f.ID] = true
	}
	for _, id := range e.order {
		if !shown[id] {
			for _, t := range e.byID[id] {
				out = append(out, summaryItem{Text: t})
			}
		}
	}
	return out
}
