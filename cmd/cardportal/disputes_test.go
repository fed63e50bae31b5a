package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDisputesCommand opens a dispute through the API and resolves it for the
// merchant with "cardportal disputes resolve", as the dispute team would: the app
// then sees the credit reversed.
func TestDisputesCommand(t *testing.T) {
	dir := t.TempDir()
	in := start(t, nil, append(fastArgs, "-data-dir", dir)...)
	tok := register(t, in, in.cards[0], "disputes.cli")
	_, accts := apiCall(t, http.MethodGet, in.url+"/api/v1/accounts", tok, nil)
	list, _ := accts["accounts"].([]any)
	if len(list) == 0 {
		t.Fatalf("accounts: %v", accts)
	}
	acct := list[0].(map[string]any)["account_id"]
	_, page := apiCall(t, http.MethodGet, fmt.Sprintf("%s/api/v1/accounts/%v/transactions?limit=100", in.url, acct), tok, nil)
	var txID any
	for _, v := range page["transactions"].([]any) {
		tx := v.(map[string]any)
		posted, _ := time.Parse(time.RFC3339, tx["posted_at"].(string))
		if tx["kind"] == "purchase" && tx["status"] == "posted" && time.Since(posted) < 100*24*time.Hour {
			txID = tx["id"]
			break
		}
	}
	if txID == nil {
		t.Fatal("no recent posted purchase in the demo history")
	}
	status, d := apiCall(t, http.MethodPost, fmt.Sprintf("%s/api/v1/transactions/%v/disputes", in.url, txID), tok, map[string]string{"reason": "not_received"})
	if status != http.StatusCreated || d["provisional_credit"] != true {
		t.Fatalf("open: %d %v", status, d)
	}
	id := fmt.Sprint(d["id"])

	resolve := func(args ...string) (string, error) {
		var out bytes.Buffer
		all := append([]string{"cardportal", "disputes", "resolve"}, args...)
		all = append(all, "-data-dir", dir, "-argon-memory", "64", "-argon-time", "1")
		err := run(context.Background(), all, func(string) string { return "" }, &out, io.Discard)
		return out.String(), err
	}
	if _, err := resolve("-id", id); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("without -action: %v", err)
	}
	out, err := resolve("-id", id, "-action", "resolve_merchant")
	if err != nil || !strings.Contains(out, "resolved_merchant") {
		t.Fatalf("resolve: %q, %v", out, err)
	}
	_, d = apiCall(t, http.MethodGet, in.url+"/api/v1/disputes/"+id, tok, nil)
	if d["status"] != "resolved_merchant" || d["credit_reversed"] != true {
		t.Errorf("after the command: %v", d)
	}
	if _, err := resolve("-id", id, "-action", "resolve_member"); err == nil {
		t.Error("a resolved dispute was resolved again")
	}
}
