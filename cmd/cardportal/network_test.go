package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardportal/cardportal/network"
)

const testNetworkSecret = "test-network-secret-0123456789abcdef"

// sendNetwork signs and posts a network message, returning the status and answer.
func sendNetwork(t *testing.T, url, path string, body any) (int, network.Response) {
	t.Helper()
	b, _ := json.Marshal(body)
	ts := time.Now().Unix()
	req, _ := http.NewRequest("POST", url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	nonce := rand.Text()
	req.Header.Set(network.HeaderTimestamp, fmt.Sprint(ts))
	req.Header.Set(network.HeaderNonce, nonce)
	req.Header.Set(network.HeaderSignature, network.Sign([]byte(testNetworkSecret), ts, nonce, b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	var out network.Response
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(rb, &out); err != nil {
			t.Fatalf("%s: %v: %s", path, err, rb)
		}
	}
	return resp.StatusCode, out
}

// TestAuthorisationsEndToEnd runs the network side against the real program: a frozen
// card declines, an unfrozen one approves, the purchase shows as pending in the
// member's transactions and reduces the available credit, and clearing posts it.
func TestAuthorisationsEndToEnd(t *testing.T) {
	in := start(t, map[string]string{"CARDPORTAL_NETWORK_SECRET": testNetworkSecret},
		append(fastArgs, "-data-dir", t.TempDir(), "-log-level", "debug")...)
	c := in.cards[0]
	tok := register(t, in, c, "network.member")
	account := func() (id string, available, pending, balance float64, cardID string) {
		st, out := apiCall(t, "GET", in.url+"/api/v1/accounts", tok, nil)
		if st != http.StatusOK {
			t.Fatalf("accounts: %d %v", st, out)
		}
		a := out["accounts"].([]any)[0].(map[string]any)
		for _, k := range a["cards"].([]any) {
			k := k.(map[string]any)
			if strings.HasSuffix(c.pan, k["last_digits"].(string)) {
				cardID = fmt.Sprint(k["card_id"])
			}
		}
		return fmt.Sprint(a["account_id"]), a["available_credit"].(float64), a["pending"].(float64), a["balance"].(float64), cardID
	}
	acct, avail0, pending0, balance0, cardID := account()

	auth := map[string]any{"message_id": "e2e-1", "card_number": c.pan, "expiry": c.exp, "amount": 1234, "currency": "USD",
		"merchant": map[string]string{"name": "E2E Coffee", "mcc": "5814", "city": "Seattle", "country": "US"}, "channel": "in_person"}
	if st, out := apiCall(t, "POST", in.url+"/api/v1/cards/"+cardID+"/freeze", tok, nil); st != http.StatusOK {
		t.Fatalf("freeze: %d %v", st, out)
	}
	if st, r := sendNetwork(t, in.url, "/network/v1/authorisations", auth); st != 200 || r.Approved || r.ResponseCode != "62" {
		t.Fatalf("frozen card: %d %+v, want a 62 decline", st, r)
	}
	if st, out := apiCall(t, "POST", in.url+"/api/v1/cards/"+cardID+"/unfreeze", tok, nil); st != http.StatusOK {
		t.Fatalf("unfreeze: %d %v", st, out)
	}
	auth["message_id"] = "e2e-2"
	st, r := sendNetwork(t, in.url, "/network/v1/authorisations", auth)
	if st != 200 || !r.Approved || r.ResponseCode != "00" || len(r.AuthCode) != 6 {
		t.Fatalf("unfrozen card: %d %+v, want an approval", st, r)
	}
	// The resend answers the same and holds nothing more.
	if st, r2 := sendNetwork(t, in.url, "/network/v1/authorisations", auth); st != 200 || r2 != r {
		t.Errorf("resend: %d %+v, want %+v", st, r2, r)
	}
	_, avail1, pending1, _, _ := account()
	if avail1 != avail0-1234 || pending1 != pending0+1234 {
		t.Errorf("after approval: available %v (was %v), pending %v (was %v)", avail1, avail0, pending1, pending0)
	}
	find := func(merchant string) []map[string]any {
		st, out := apiCall(t, "GET", in.url+"/api/v1/accounts/"+acct+"/transactions?q="+merchant[:3], tok, nil)
		if st != http.StatusOK {
			t.Fatalf("transactions: %d %v", st, out)
		}
		var got []map[string]any
		for _, x := range out["transactions"].([]any) {
			if x := x.(map[string]any); x["merchant"] == merchant {
				got = append(got, x)
			}
		}
		return got
	}
	if got := find("E2E Coffee"); len(got) != 1 || got[0]["status"] != "pending" || got[0]["amount"].(float64) != 1234 {
		t.Errorf("transactions after approval: %v, want one pending 1234", got)
	}

	// Clearing for a little more (a tip) posts it and releases the hold.
	clr := map[string]any{"message_id": "e2e-clr", "original_message_id": "e2e-2", "card_number": c.pan, "amount": 1400, "currency": "USD",
		"merchant": map[string]string{"name": "E2E Coffee", "mcc": "5814", "city": "Seattle", "country": "US"}, "channel": "in_person"}
	if st, r := sendNetwork(t, in.url, "/network/v1/clearings", clr); st != 200 || r.ResponseCode != "00" {
		t.Fatalf("clearing: %d %+v", st, r)
	}
	_, avail2, pending2, balance2, _ := account()
	if pending2 != pending0 || balance2 != balance0+1400 || avail2 != avail0-1400 {
		t.Errorf("after clearing: available %v pending %v balance %v; want %v %v %v", avail2, pending2, balance2, avail0-1400, pending0, balance0+1400)
	}
	if got := find("E2E Coffee"); len(got) != 1 || got[0]["status"] != "posted" || got[0]["amount"].(float64) != 1400 {
		t.Errorf("transactions after clearing: %v, want one posted 1400", got)
	}
	// A network token: issued by the token service, then paid with online without a
	// CID (the token service checked the cryptogram), suspended, and the card number
	// still pays.
	const token = "4895370000001237"
	tokMsg := map[string]any{"message_id": "e2e-tok-1", "token": token, "token_expiry": "06/30", "status": "active",
		"wallet": "Phone Wallet", "card_number": c.pan, "card_expiry": c.exp}
	if st, r := sendNetwork(t, in.url, "/network/v1/tokens", tokMsg); st != 200 || r.ResponseCode != "00" {
		t.Fatalf("token issued: %d %+v", st, r)
	}
	byToken := map[string]any{"message_id": "e2e-tok-auth", "token": token, "expiry": "06/30", "amount": 2500, "currency": "USD",
		"merchant": map[string]string{"name": "E2E Tokenshop", "mcc": "5732", "country": "US"}, "channel": "online"}
	if st, r := sendNetwork(t, in.url, "/network/v1/authorisations", byToken); st != 200 || !r.Approved {
		t.Fatalf("authorisation by token: %d %+v", st, r)
	}
	if got := find("E2E Tokenshop"); len(got) != 1 || got[0]["status"] != "pending" || got[0]["amount"].(float64) != 2500 {
		t.Errorf("transactions after a token's approval: %v, want one pending 2500", got)
	}
	tokMsg["message_id"], tokMsg["status"] = "e2e-tok-2", "suspended"
	if st, r := sendNetwork(t, in.url, "/network/v1/tokens", tokMsg); st != 200 || r.ResponseCode != "00" {
		t.Fatalf("token suspended: %d %+v", st, r)
	}
	byToken["message_id"] = "e2e-tok-auth-2"
	if st, r := sendNetwork(t, in.url, "/network/v1/authorisations", byToken); st != 200 || r.Approved || r.ResponseCode != "62" {
		t.Errorf("authorisation by a suspended token: %d %+v, want a 62 decline", st, r)
	}
	auth["message_id"] = "e2e-3"
	if st, r := sendNetwork(t, in.url, "/network/v1/authorisations", auth); st != 200 || !r.Approved {
		t.Errorf("card number while its token is suspended: %d %+v", st, r)
	}
	if strings.Contains(in.log.String(), token) {
		t.Errorf("the token reached the logs")
	}

	// An unsigned message is refused.
	b, _ := json.Marshal(auth)
	resp, err := http.Post(in.url+"/network/v1/authorisations", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", resp.StatusCode)
	}
	if strings.Contains(in.log.String(), c.pan) {
		t.Errorf("the card number reached the logs")
	}
}
