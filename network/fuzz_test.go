package network

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzMessages sends any signed body to every message route: the handler answers 200
// (the service was asked), 422 or 413, never panics, and never echoes a card number.
func FuzzMessages(f *testing.F) {
	f.Add(0, authBody)
	f.Add(1, `{"message_id":"r","original_message_id":"m","card_number":"4111111111111111","amount":5}`)
	f.Add(2, `{"message_id":"c","card_number":"4111111111111111","amount":5,"currency":"USD","merchant":{"name":"x","mcc":"5411","country":"US"},"channel":"online"}`)
	f.Add(3, `{"message_id":"c","card_number":"4111111111111111","pin_block":{"format":4,"block":"00"}}`)
	f.Add(0, `[]`)
	paths := []string{"/network/v1/authorisations", "/network/v1/reversals", "/network/v1/clearings", "/network/v1/refunds"}
	n := 0
	f.Fuzz(func(t *testing.T, route int, body string) {
		e := newEnv(t)
		n++
		w := e.sendNonce(paths[(route%4+4)%4], body, testNow.Unix(), testSecret, fmt.Sprintf("fuzz-nonce-%016d", n))
		switch w.Code {
		case 200, 413, 422:
		default:
			t.Fatalf("status %d for %q", w.Code, body)
		}
		if w.Code != 200 && len(e.svc.got) != 0 {
			t.Fatalf("the service was asked for a refused message")
		}
		if strings.Contains(w.Body.String(), "4111111111111111") {
			t.Fatalf("card number echoed")
		}
	})
}
