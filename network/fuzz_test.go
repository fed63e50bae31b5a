package network

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// FuzzMessages sends any signed body to every message route: the handler answers 200
// (the service was asked), 422 or 413, never panics, and never echoes a card number or a token.
func FuzzMessages(f *testing.F) {
	f.Add(0, authBody)
	f.Add(1, `{"message_id":"r","original_message_id":"m","card_number":"4111111111111111","amount":5}`)
	f.Add(2, `{"message_id":"c","card_number":"4111111111111111","amount":5,"currency":"USD","merchant":{"name":"x","mcc":"5411","country":"US"},"channel":"online"}`)
	f.Add(3, `{"message_id":"c","card_number":"4111111111111111","pin_block":{"format":4,"block":"00"}}`)
	f.Add(4, `{"message_id":"t","token":"4895370000001237","token_expiry":"06/29","status":"active","card_number":"4111111111111111","card_expiry":"12/28"}`)
	f.Add(0, `{"message_id":"a","token":"4895370000001237","expiry":"06/29","amount":5,"currency":"USD","merchant":{"name":"x","mcc":"5411","country":"US"},"channel":"online"}`)
	f.Add(0, `[]`)
	paths := []string{"/network/v1/authorisations", "/network/v1/reversals", "/network/v1/clearings", "/network/v1/refunds", "/network/v1/tokens"}
	n := 0
	f.Fuzz(func(t *testing.T, route int, body string) {
		e := newEnv(t)
		n++
		w := e.sendNonce(paths[(route%len(paths)+len(paths))%len(paths)], body, testNow.Unix(), testSecret, fmt.Sprintf("fuzz-nonce-%016d", n))
		switch w.Code {
		case 200, 413, 422:
		default:
			t.Fatalf("status %d for %q", w.Code, body)
		}
		if w.Code != 200 && len(e.svc.got) != 0 {
			t.Fatalf("the service was asked for a refused message")
		}
		// An answer repeats the message id, whatever the network put in it.
		out := w.Body.String()
		var resp Response
		if w.Code == 200 && json.Unmarshal(w.Body.Bytes(), &resp) == nil {
			id, _ := json.Marshal(resp.MessageID)
			out = strings.Replace(out, string(id), `""`, 1)
		}
		if strings.Contains(out, "4111111111111111") || strings.Contains(out, "4895370000001237") {
			t.Fatalf("card number or token echoed: %s", w.Body)
		}
	})
}
