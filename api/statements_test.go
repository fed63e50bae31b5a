package api

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// closeStatements closes both fixture accounts' cycles on the test's start date
// (both were opened on a 22nd, their closing day).
func (e *env) closeStatements() {
	e.t.Helper()
	res, err := e.stmts.Close(e.t.Context(), start)
	if err != nil || res.Statements != 2 {
		e.t.Fatalf("Close: %+v, %v", res, err)
	}
}

func TestStatements(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	alice := e.register(e.alice, "alice.example", alicePassword).Token
	bob := e.register(e.bob, "bob-example", "Paper Boats 1985").Token
	carol := e.register(e.carol, "carol.other", carolPassword).Token
	e.closeStatements()

	type list struct {
		Statements []statementJSON `json:"statements"`
	}
	get := func(token string) list {
		t.Helper()
		res := e.do(req{method: "GET", path: "/api/v1/statements", token: token})
		if res.status != http.StatusOK {
			t.Fatalf("list: %d %s", res.status, res.body)
		}
		var l list
		res.decode(t, &l)
		return l
	}
	a, c := get(alice), get(carol)
	if len(a.Statements) != 1 || a.Statements[0].AccountID != 1 || len(c.Statements) != 1 || c.Statements[0].AccountID != 2 {
		t.Fatalf("alice %+v, carol %+v", a, c)
	}
	if b := get(bob); len(b.Statements) != 0 {
		t.Errorf("the additional member lists %+v, want none", b)
	}
	st := a.Statements[0]
	if st.ClosingDate != "2026-11-22" || st.DueDate != "2026-12-17" || st.Opening+st.Purchases+st.Credits+st.Interest != st.Closing {
		t.Errorf("statement %+v", st)
	}
	id := strconv.FormatInt(st.ID, 10)

	// The statement's transactions add up to its figures.
	res := e.do(req{method: "GET", path: "/api/v1/statements/" + id, token: alice})
	if res.status != http.StatusOK {
		t.Fatalf("get: %d %s", res.status, res.body)
	}
	var detail struct {
		statementJSON
		Transactions []transactionJSON `json:"transactions"`
	}
	res.decode(t, &detail)
	var sum int64
	for _, x := range detail.Transactions {
		if x.Status != "posted" {
			t.Errorf("a %s transaction on the statement", x.Status)
		}
		sum += x.Amount
	}
	if detail.Opening+sum != detail.Closing || len(detail.Transactions) != 7 {
		t.Errorf("%d transactions summing to %d; opening %d, closing %d", len(detail.Transactions), sum, detail.Opening, detail.Closing)
	}

	// Another member's statement id, and any for the additional member, are not found
	// on every statement endpoint; so is one that does not exist.
	for _, path := range []string{"/api/v1/statements/" + id, "/api/v1/statements/" + id + "/statement.pdf", "/api/v1/statements/" + id + "/statement.csv"} {
		for _, tt := range []struct {
			name, token, path string
		}{
			{"another member", carol, path},
			{"additional member", bob, path},
			{"no such statement", alice, "/api/v1/statements/999999" + path[len("/api/v1/statements/"+id):]},
		} {
			if res := e.do(req{method: "GET", path: tt.path, token: tt.token}); res.status != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404", tt.name, tt.path, res.status)
			}
		}
	}

	res = e.do(req{method: "GET", path: "/api/v1/statements/" + id + "/statement.pdf", token: alice})
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(res.body, []byte("%PDF-")) {
		t.Errorf("pdf: %d %s %q", res.status, res.header.Get("Content-Type"), res.body[:min(20, len(res.body))])
	}
	res = e.do(req{method: "GET", path: "/api/v1/statements/" + id + "/statement.csv", token: alice, header: http.Header{"Accept-Language": {"es"}}})
	rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if res.status != http.StatusOK || err != nil || len(rows) != 1+len(detail.Transactions) || rows[0][0] != "Fecha" {
		t.Errorf("csv: %d, %v, %d rows, header %v", res.status, err, len(rows), rows[0])
	}

	// The dashboard's figures come from the statement.
	res = e.do(req{method: "GET", path: "/api/v1/accounts", token: alice})
	var accts struct {
		Accounts []accountJSON `json:"accounts"`
	}
	res.decode(t, &accts)
	if got := accts.Accounts[0]; got.StmtBalance == nil || *got.StmtBalance != st.Closing || got.StmtDate == nil || *got.StmtDate != st.ClosingDate ||
		got.PaymentDue == nil || *got.PaymentDue != st.DueDate || got.MinimumDue != st.MinimumDue {
		t.Errorf("account %+v, statement %+v", got, st)
	}
}

func TestPaperless(t *testing.T) {
	e := newEnv(t)
	alice := e.register(e.alice, "alice.example", alicePassword).Token
	bob := e.register(e.bob, "bob-example", "Paper Boats 1985").Token
	carol := e.register(e.carol, "carol.other", carolPassword).Token
	tests := []struct {
		name   string
		method string
		path   string
		token  string
		body   any
		status int
		want   string
	}{
		{"paper by default", "GET", "/api/v1/statements/paperless?account_id=1", alice, nil, 200, `{"account_id":1,"paperless":false}`},
		{"go paperless", "PUT", "/api/v1/statements/paperless", alice, map[string]any{"account_id": 1, "paperless": true}, 200, `{"account_id":1,"paperless":true}`},
		{"again: no change", "PUT", "/api/v1/statements/paperless", alice, map[string]any{"account_id": 1, "paperless": true}, 200, `{"account_id":1,"paperless":true}`},
		{"reads back", "GET", "/api/v1/statements/paperless?account_id=1", alice, nil, 200, `{"account_id":1,"paperless":true}`},
		{"additional member", "PUT", "/api/v1/statements/paperless", bob, map[string]any{"account_id": 1, "paperless": false}, 404, ""},
		{"additional member reads", "GET", "/api/v1/statements/paperless?account_id=1", bob, nil, 404, ""},
		{"another member's account", "PUT", "/api/v1/statements/paperless", carol, map[string]any{"account_id": 1, "paperless": false}, 404, ""},
		{"another member reads", "GET", "/api/v1/statements/paperless?account_id=1", carol, nil, 404, ""},
		{"no value", "PUT", "/api/v1/statements/paperless", alice, map[string]any{"account_id": 1}, 422, ""},
		{"no account", "GET", "/api/v1/statements/paperless", alice, nil, 422, ""},
		{"unchanged by the refusals", "GET", "/api/v1/statements/paperless?account_id=1", alice, nil, 200, `{"account_id":1,"paperless":true}`},
	}
	for _, tt := range tests {
		res := e.do(req{method: tt.method, path: tt.path, token: tt.token, body: tt.body})
		if res.status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.status)
			continue
		}
		if tt.want != "" && string(bytes.TrimSpace(res.body)) != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, res.body, tt.want)
		}
	}
	// The next statement of account 1 is online only.
	e.clock.Add(24 * time.Hour)
	if _, err := e.stmts.Close(t.Context(), start); err != nil {
		t.Fatal(err)
	}
	sts, _ := e.stmts.List(t.Context(), e.alice.cardholderID)
	if len(sts) != 1 || sts[0].Delivery != "online" {
		t.Errorf("statements after going paperless: %+v", sts)
	}
}
