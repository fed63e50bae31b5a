package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// closeCycle closes the fixture account's cycle on the test's start date (it was
// opened on a 22nd, its closing day).
func (e *env) closeCycle() {
	e.t.Helper()
	if res, err := e.stmts.Close(e.t.Context(), start); err != nil || res.Statements != 1 {
		e.t.Fatalf("Close: %+v, %v", res, err)
	}
}

var statementLink = regexp.MustCompile(`href="(/statements/\d+)"`)

func TestStatementPages(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	b := e.browser(chromeUA)
	b.register(e.basic, userID)

	list := b.get("/statements")
	wantStatus(t, "empty list", list, http.StatusOK)
	wantContains(t, "empty list", list.body, "No statements yet", "Go paperless")

	e.closeCycle()
	// Balance: 1,234.56 - 200.00 + 42.50 + 19.99 + 890.00 + 7.00 (the hold is not on it).
	dash := b.get("/account")
	wantContains(t, "dashboard", dash.body, "Last statement balance", "$1,994.05", "Dec 17, 2026", `href="/statements"`)

	list = b.get("/statements")
	wantContains(t, "list", list.body, "Nov 22, 2026", "$1,994.05", "Online and by mail", "Download PDF")
	m := statementLink.FindStringSubmatch(list.body)
	if m == nil {
		t.Fatalf("no statement link in %s", list.body)
	}
	detail := b.get(m[1])
	wantStatus(t, "detail", detail, http.StatusOK)
	wantContains(t, "detail", detail.body, "Statement of Nov 22, 2026", "Previous balance", "Skyline Air", "Groceries",
		"&lt;b&gt;Bold&lt;/b&gt; Bistro", "$1,994.05")
	wantLacks(t, "detail", detail.body, "Blue Harbor Coffee") // still pending: not on the statement

	pdf := b.get(m[1] + "/pdf")
	if pdf.status != http.StatusOK || pdf.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix([]byte(pdf.body), []byte("%PDF-")) {
		t.Errorf("pdf: %d %q", pdf.status, pdf.header.Get("Content-Type"))
	}
	csvRes := b.get(m[1] + "/csv")
	if csvRes.status != http.StatusOK || !strings.Contains(csvRes.body, "Skyline Air") || !strings.Contains(csvRes.header.Get("Content-Disposition"), "statement-2026-11-22.csv") {
		t.Errorf("csv: %d %q", csvRes.status, csvRes.header.Get("Content-Disposition"))
	}

	// Paperless on and off again.
	res := b.post("/statements/paperless", url.Values{"account": {"1"}, "on": {"1"}})
	wantRedirect(t, "paperless on", res, "/statements?done=paperless-on")
	wantContains(t, "after paperless on", b.get("/statements?done=paperless-on").body, "no more paper statements", "Mail me paper statements")
	wantStatus(t, "paperless, not my account", b.post("/statements/paperless", url.Values{"account": {"2"}, "on": {"0"}}), http.StatusNotFound)
	wantStatus(t, "paperless, bad value", b.post("/statements/paperless", url.Values{"account": {"1"}, "on": {"yes"}}), http.StatusBadRequest)

	// The additional member sees no statement, and the basic member's by id is not
	// found, as is one that does not exist.
	sam := e.browser(chromeUA)
	f := cardForm(e.extra)
	f.Set("additional", "1")
	f.Set("basic_birth_date", e.basic.birth)
	wantRedirect(t, "Sam: verify card", sam.post("/register", f), "/register/credentials")
	wantRedirect(t, "Sam: credentials", sam.post("/register/credentials", credentialsForm("sam.doe2026", password)), "/contact?m=welcome")
	wantContains(t, "additional list", sam.get("/statements").body, "Statements go to the basic card member")
	for _, path := range []string{m[1], m[1] + "/pdf", m[1] + "/csv"} {
		wantStatus(t, "additional "+path, sam.get(path), http.StatusNotFound)
	}
	wantStatus(t, "no such statement", b.get("/statements/999999"), http.StatusNotFound)
	wantStatus(t, "paperless by the additional member", sam.post("/statements/paperless", url.Values{"account": {"1"}, "on": {"0"}}), http.StatusNotFound)
}

func TestStatementPagesSwedish(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	e.closeCycle()
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	b.post("/language", url.Values{"lang": {"sv"}, "return": {"/statements"}})
	list := b.get("/statements")
	wantContains(t, "sv list", list.body, "Fakturor", "22 nov. 2026")
}
