package identity_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// lastContactCode returns the newest contact code sent to address.
func (e *env) lastContactCode(t *testing.T, to string) string {
	t.Helper()
	msgs, err := e.store.ListOutbox(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind == "contact.code" && m.To == to {
			return sixDigits.FindString(m.Body)
		}
	}
	t.Fatalf("no contact code to %s in the outbox", to)
	return ""
}

func TestConfirmContactsAfterRegistration(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, identity.Config{})
	m := e.register(t, e.cards[0], "contact.member")
	st, err := e.svc.ContactState(ctx, m.ID)
	if err != nil || st.Confirmed() || !st.PhoneVerified.IsZero() || !st.EmailVerified.IsZero() || st.Phone == m.Phone {
		t.Fatalf("state after registration: %+v %v (phone must be masked)", st, err)
	}
	if err := e.svc.SendContactCode(ctx, m.ID, "sms", src); err != nil {
		t.Fatal(err)
	}
	code := e.lastContactCode(t, m.Phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	tests := []struct {
		name    string
		channel string
		code    string
		kind    cp.Kind
		msg     string
	}{
		{"not six digits", "sms", "12ab", cp.Invalid, "error.invalid"},
		{"unknown channel", "fax", code, cp.Invalid, "error.invalid"},
		{"wrong code", "sms", wrong, cp.Invalid, "error.invalid"},
		{"email code never sent", "email", code, cp.Expired, "contact.code.dead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.ConfirmContact(ctx, m.ID, tt.channel, tt.code, src)
			if cp.ErrorKind(err) != tt.kind {
				t.Fatalf("got %v, want %v", err, tt.kind)
			}
		})
	}
	if err := e.svc.ConfirmContact(ctx, m.ID, "sms", code, src); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if err := e.svc.ConfirmContact(ctx, m.ID, "sms", code, src); !cp.IsKind(err, cp.Expired) {
		t.Fatalf("code used twice: %v", err)
	}
	st, _ = e.svc.ContactState(ctx, m.ID)
	if !st.PhoneVerified.Equal(e.clock.Now()) || !st.EmailVerified.IsZero() || st.Confirmed() {
		t.Fatalf("after the phone: %+v", st)
	}
	if err := e.svc.SendContactCode(ctx, m.ID, "email", src); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ConfirmContact(ctx, m.ID, "email", e.lastContactCode(t, m.Email), src); err != nil {
		t.Fatal(err)
	}
	if st, _ = e.svc.ContactState(ctx, m.ID); !st.Confirmed() {
		t.Fatalf("after both: %+v", st)
	}
	// Another member's code confirms nothing here: codes are bound to their member.
	other := e.register(t, e.cards[1], "contact.other")
	if err := e.svc.ConfirmContact(ctx, other.ID, "sms", code, src); !cp.IsKind(err, cp.Expired) {
		t.Fatalf("a code without a send: %v", err)
	}
}

func TestContactCodeLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, identity.Config{})
	m := e.register(t, e.cards[0], "contact.member")
	if err := e.svc.SendContactCode(ctx, m.ID, "sms", src); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SendContactCode(ctx, m.ID, "sms", src); !cp.IsKind(err, cp.TooManyRequests) {
		t.Fatalf("immediate resend: %v", err)
	}
	code := e.lastContactCode(t, m.Phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := range 5 {
		if err := e.svc.ConfirmContact(ctx, m.ID, "sms", wrong, src); !cp.IsKind(err, cp.Invalid) {
			t.Fatalf("wrong try %d: %v", i+1, err)
		}
	}
	if err := e.svc.ConfirmContact(ctx, m.ID, "sms", code, src); !cp.IsKind(err, cp.Expired) {
		t.Fatalf("the right code after 5 wrong tries: %v", err)
	}
	e.clock.Add(time.Minute)
	if err := e.svc.SendContactCode(ctx, m.ID, "sms", src); err != nil {
		t.Fatal(err)
	}
	code = e.lastContactCode(t, m.Phone)
	e.clock.Add(10 * time.Minute)
	if err := e.svc.ConfirmContact(ctx, m.ID, "sms", code, src); !cp.IsKind(err, cp.Expired) {
		t.Fatalf("a code after 10 minutes: %v", err)
	}
}

func TestChangeContactConfirmsTheNewAndTellsTheOld(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, identity.Config{})
	m := e.register(t, e.cards[0], "contact.member")
	const newPhone = "+46 70-123 45 67"
	tests := []struct {
		name  string
		in    identity.ContactChange
		field string
		msg   string
	}{
		{"wrong password", identity.ContactChange{Channel: "sms", Address: newPhone, Password: "Wrong-Horse-42-battery"}, "password", "password.current.wrong"},
		{"no password", identity.ContactChange{Channel: "sms", Address: newPhone}, "password", "password.current.wrong"},
		{"phone without country code", identity.ContactChange{Channel: "sms", Address: "070 123 45 67", Password: goodPassword}, "address", "contact.address.invalid"},
		{"phone with letters", identity.ContactChange{Channel: "sms", Address: "+46 70 CALL ME", Password: goodPassword}, "address", "contact.address.invalid"},
		{"email without a domain dot", identity.ContactChange{Channel: "email", Address: "me@localhost", Password: goodPassword}, "address", "contact.address.invalid"},
		{"email with two @", identity.ContactChange{Channel: "email", Address: "a@b@example.com", Password: goodPassword}, "address", "contact.address.invalid"},
		{"the same email", identity.ContactChange{Channel: "email", Address: m.Email, Password: goodPassword}, "address", "contact.address.same"},
		{"unknown channel", identity.ContactChange{Channel: "fax", Address: newPhone, Password: goodPassword}, "channel", "error.field.required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.ChangeContact(ctx, m.ID, tt.in, src)
			if cp.ErrorKind(err) != cp.Invalid || !slices.Contains(fieldMsgs(err, tt.field), tt.msg) {
				t.Fatalf("got %v %v, want %s on %s", err, cp.ErrorFields(err), tt.msg, tt.field)
			}
		})
	}
	if err := e.svc.ChangeContact(ctx, m.ID, identity.ContactChange{Channel: "sms", Address: newPhone, Password: goodPassword}, src); err != nil {
		t.Fatal(err)
	}
	st, _ := e.svc.ContactState(ctx, m.ID)
	if st.PendingPhone == "" || st.PendingPhone == "+46701234567" {
		t.Fatalf("pending phone not shown masked: %+v", st)
	}
	code := e.lastContactCode(t, "+46701234567") // the code goes to the NEW number
	if got, _ := e.svc.Member(ctx, m.ID); got.Phone != m.Phone {
		t.Fatalf("the phone changed before confirmation: %q", got.Phone)
	}
	if err := e.svc.ConfirmContact(ctx, m.ID, "sms", code, src); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Member(ctx, m.ID)
	if got.Phone != "+46701234567" {
		t.Fatalf("phone after confirmation: %q", got.Phone)
	}
	if st, _ := e.svc.ContactState(ctx, m.ID); st.PhoneVerified.IsZero() || st.PendingPhone != "" {
		t.Fatalf("state after the change: %+v", st)
	}
	msgs, _ := e.store.ListOutbox(ctx, 10)
	told := false
	for _, x := range msgs {
		if x.Kind == "contact.changed" && x.To == m.Phone && !strings.Contains(x.Body, "+46701234567") {
			told = true
		}
	}
	if !told {
		t.Fatal("the old number was not told (or was told the new number in full)")
	}
}
