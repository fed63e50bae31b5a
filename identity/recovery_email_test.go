package identity_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
)

// byEmail is a request for the registered demo card c's member, changed as named.
func byEmail(m identity.Member, name, postcode, change string) identity.ForgotUserIDByEmailRequest {
	r := identity.ForgotUserIDByEmailRequest{Email: m.Email, Name: name, Postcode: postcode}
	switch change {
	case "wrong name":
		r.Name = "Someone Else"
	case "wrong postcode":
		r.Postcode = "99999"
	case "unknown email":
		r.Email = "nobody.at.all@example.com"
	case "other spelling":
		// Case, spacing and the postcode's space do not matter.
		r.Email = strings.ToUpper(m.Email)
		r.Name = "  " + strings.ToUpper(name) + " "
		r.Postcode = strings.ReplaceAll(postcode, " ", "")
	}
	return r
}

func TestForgotUserIDByEmail(t *testing.T) {
	e := newEnv(t, noPad)
	ctx := context.Background()
	reg := e.cards[0]
	m := e.register(t, reg, "by.email.1")
	if m.Email == "" || reg.Postcode == "" {
		t.Fatalf("fixture: member email %q, postcode %q", m.Email, reg.Postcode)
	}
	for _, tt := range []struct {
		change string
		sent   bool
	}{
		{"wrong name", false}, {"wrong postcode", false}, {"unknown email", false}, {"", true}, {"other spelling", true},
	} {
		t.Run("case "+tt.change, func(t *testing.T) {
			before := len(e.outbox(t))
			if err := e.svc.ForgotUserIDByEmail(ctx, byEmail(m, reg.Name, reg.Postcode, tt.change), src); err != nil {
				t.Fatalf("%v, want nil whatever matched", err)
			}
			msgs := e.outbox(t)
			if got := len(msgs) - before; (got == 1) != tt.sent || got > 1 {
				t.Fatalf("%d messages sent, want sent=%v", got, tt.sent)
			}
			if !tt.sent {
				return
			}
			msg := msgs[0]
			if msg.To != m.Email || msg.Channel != notify.Email || !strings.Contains(msg.Body, "by.email.1") {
				t.Errorf("reminder = %+v; want the User ID by email to the registered address", msg)
			}
		})
	}
	// Malformed input is the only other answer, per field.
	err := e.svc.ForgotUserIDByEmail(ctx, identity.ForgotUserIDByEmailRequest{Email: "not-an-address"}, src)
	fields := map[string]string{}
	for _, f := range cp.ErrorFields(err) {
		fields[f.Field] = f.Msg
	}
	if !cp.IsKind(err, cp.Invalid) || fields["email"] != "recovery.email.invalid" || fields["name"] != "error.field.required" || fields["postcode"] != "error.field.required" {
		t.Errorf("malformed request: %v %v", err, fields)
	}
}

// TestForgotUserIDByEmailThrottled: guesses at one address's postcode are bounded
// however many source addresses they come from, and the limit answers the same for a
// known and an unknown address.
func TestForgotUserIDByEmailThrottled(t *testing.T) {
	e := newEnv(t, noPad)
	ctx := context.Background()
	m := e.register(t, e.cards[0], "by.email.2")
	limit := e.svc.Config().Recovery.PerCard
	for _, email := range []string{m.Email, "unknown.person@example.com"} {
		var err error
		for i := range limit + 1 {
			s := src
			s.IP = "198.51.100." + string(rune('0'+i%10))
			err = e.svc.ForgotUserIDByEmail(ctx, identity.ForgotUserIDByEmailRequest{Email: email, Name: "Guess", Postcode: "1000" + string(rune('0'+i%10))}, s)
			if i < limit && err != nil {
				t.Fatalf("%s: try %d: %v", email, i+1, err)
			}
		}
		if !cp.IsKind(err, cp.TooManyRequests) || cp.ErrorMsg(err) != "recovery.throttled" {
			t.Errorf("%s: try %d = %v, want too many requests", email, limit+1, err)
		}
	}
}

// emailCountingStore counts the lookups a request makes.
type emailCountingStore struct {
	*countingStore
	lookups atomic.Int32
}

func (s *emailCountingStore) MembersByEmail(ctx context.Context, email string, limit int) ([]identity.UserIDCandidate, error) {
	s.lookups.Add(1)
	return s.countingStore.MembersByEmail(ctx, email, limit)
}

// TestForgotUserIDByEmailSameWorkAndTime: a match and each kind of mismatch make one
// lookup by email, no other member lookup, and take at least MinDuration.
func TestForgotUserIDByEmailSameWorkAndTime(t *testing.T) {
	e := newEnv(t, noPad)
	reg := e.cards[0]
	m := e.register(t, reg, "by.email.3")
	st := &emailCountingStore{countingStore: &countingStore{Store: e.store}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const floor = 40 * time.Millisecond
	svc := identity.NewService(st, e.hsm, e.hasher, &notify.Outbox{Store: e.store, Log: log, Now: e.clock.Now},
		identity.Config{Recovery: identity.RecoveryConfig{MinDuration: floor, PerCard: 100}}, e.clock.Now, log)
	for _, change := range []string{"unknown email", "wrong name", "wrong postcode", ""} {
		t.Run("case "+change, func(t *testing.T) {
			st.lookups.Store(0)
			st.members.Store(0)
			began := time.Now()
			if err := svc.ForgotUserIDByEmail(context.Background(), byEmail(m, reg.Name, reg.Postcode, change), src); err != nil {
				t.Fatalf("%v, want nil whatever matched", err)
			}
			if took := time.Since(began); took < floor {
				t.Errorf("answered in %v, sooner than %v", took, floor)
			}
			if l, mm := st.lookups.Load(), st.members.Load(); l != 1 || mm != 0 {
				t.Errorf("work: %d lookups by email, %d member lookups; want 1 and 0", l, mm)
			}
		})
	}
}
