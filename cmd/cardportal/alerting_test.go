package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitOutbox waits until the outbox holds want (alerts are sent after the network was
// answered, from another goroutine); the long guard only keeps a broken build from
// hanging.
func waitOutbox(t *testing.T, in *instance, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		page := outboxPage(t, in)
		if strings.Contains(page, want) {
			return page
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox never showed %q", want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPurchaseAlertsEndToEnd is issue 5's "an alert really fires": the member's
// alert rules run on the network's approvals, and a frozen card's decline warns them.
func TestPurchaseAlertsEndToEnd(t *testing.T) {
	in := start(t, map[string]string{"CARDPORTAL_NETWORK_SECRET": testNetworkSecret},
		append(fastArgs, "-data-dir", t.TempDir())...)
	c := in.cards[0]
	tok := register(t, in, c, "alerts.member")
	prefs := map[string]any{"alerts": map[string]any{
		"purchase_over":   map[string]any{"email": true, "sms": false, "push": false, "amount": 1000},
		"online_purchase": map[string]any{"email": true, "sms": false, "push": false},
	}}
	if st, out := apiCall(t, "PUT", in.url+"/api/v1/alerts", tok, prefs); st != http.StatusOK {
		t.Fatalf("set alerts: %d %v", st, out)
	}
	merchant := func(name string) map[string]string {
		return map[string]string{"name": name, "mcc": "5812", "city": "Portland", "country": "US"}
	}
	authorise := func(id string, amount int, name, channel, cid string) {
		t.Helper()
		msg := map[string]any{"message_id": id, "card_number": c.pan, "expiry": c.exp, "amount": amount, "currency": "USD",
			"merchant": merchant(name), "channel": channel}
		if cid != "" {
			msg["cid"] = cid
		}
		if st, r := sendNetwork(t, in.url, "/network/v1/authorisations", msg); st != 200 || !r.Approved {
			t.Fatalf("%s: %d %+v, want an approval", id, st, r)
		}
	}

	// Under the threshold, in person: no alert. Then one over it, and an online one.
	authorise("alert-1", 999, "Small Bistro", "in_person", "")
	authorise("alert-2", 1234, "Large Bistro", "in_person", "")
	authorise("alert-3", 500, "Web Shop", "online", c.code)
	waitOutbox(t, in, "Purchase of $12.34")
	page := waitOutbox(t, in, "Online purchase of $5.00")
	if strings.Contains(page, "Small Bistro") {
		t.Errorf("a purchase under the member's threshold raised an alert")
	}

	// A frozen card declines, and the member hears that someone tried it.
	_, out := apiCall(t, "GET", in.url+"/api/v1/accounts", tok, nil)
	var cardID string
	for _, k := range out["accounts"].([]any)[0].(map[string]any)["cards"].([]any) {
		if k := k.(map[string]any); strings.HasSuffix(c.pan, k["last_digits"].(string)) {
			cardID = fmt.Sprint(k["card_id"])
		}
	}
	if st, out := apiCall(t, "POST", in.url+"/api/v1/cards/"+cardID+"/freeze", tok, nil); st != http.StatusOK {
		t.Fatalf("freeze: %d %v", st, out)
	}
	msg := map[string]any{"message_id": "alert-4", "card_number": c.pan, "expiry": c.exp, "amount": 4200, "currency": "USD",
		"merchant": merchant("Thief Electronics"), "channel": "in_person"}
	if st, r := sendNetwork(t, in.url, "/network/v1/authorisations", msg); st != 200 || r.Approved || r.ResponseCode != "62" {
		t.Fatalf("frozen card: %d %+v, want a 62 decline", st, r)
	}
	page = waitOutbox(t, in, "Someone tried to use your frozen card")
	if !strings.Contains(page, "Thief Electronics") {
		t.Errorf("the frozen-card warning does not name the merchant")
	}
	if strings.Contains(in.log.String(), c.pan) {
		t.Errorf("the card number reached the logs")
	}
}
