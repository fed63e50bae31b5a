package details_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/details"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/notify"
)

func addr(country, region, postcode string) issuer.Address {
	return issuer.Address{Line1: "1 Main St", City: "Town", Region: region, Postcode: postcode, Country: country}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		in     issuer.Address
		want   issuer.Address // when ok
		fields map[string]string
	}{
		{name: "US ZIP", in: addr("US", "wa", "98101"), want: addr("US", "WA", "98101")},
		{name: "US ZIP+4", in: addr("us", "NY", "10001-1234"), want: addr("US", "NY", "10001-1234")},
		{name: "US ZIP of 4 digits", in: addr("US", "NY", "1000"), fields: map[string]string{"postcode": "details.postcode.us"}},
		{name: "US ZIP+3", in: addr("US", "NY", "10001-123"), fields: map[string]string{"postcode": "details.postcode.us"}},
		{name: "US without state", in: addr("US", "", "10001"), fields: map[string]string{"region": "details.region.required"}},
		{name: "US unknown state", in: addr("US", "XX", "10001"), fields: map[string]string{"region": "details.region.us"}},
		{name: "SE with space", in: addr("SE", "", "114 55"), want: addr("SE", "", "114 55")},
		{name: "SE without space is printed with one", in: addr("SE", "", "11455"), want: addr("SE", "", "114 55")},
		{name: "SE starting with 0", in: addr("SE", "", "01455"), fields: map[string]string{"postcode": "details.postcode.se"}},
		{name: "SE of 6 digits", in: addr("SE", "", "114555"), fields: map[string]string{"postcode": "details.postcode.se"}},
		{name: "ES Madrid", in: addr("ES", "", "28013"), want: addr("ES", "", "28013")},
		{name: "ES province 52", in: addr("ES", "", "52001"), want: addr("ES", "", "52001")},
		{name: "ES province 53", in: addr("ES", "", "53001"), fields: map[string]string{"postcode": "details.postcode.es"}},
		{name: "ES province 00", in: addr("ES", "", "00123"), fields: map[string]string{"postcode": "details.postcode.es"}},
		{name: "IN PIN code", in: addr("IN", "Delhi", "110001"), want: addr("IN", "Delhi", "110001")},
		{name: "IN PIN code with space", in: addr("IN", "Delhi", "110 001"), want: addr("IN", "Delhi", "110001")},
		{name: "IN starting with 0", in: addr("IN", "Delhi", "010001"), fields: map[string]string{"postcode": "details.postcode.in"}},
		{name: "IN of 5 digits", in: addr("IN", "Delhi", "11000"), fields: map[string]string{"postcode": "details.postcode.in"}},
		{name: "IN without state", in: addr("IN", "", "110001"), fields: map[string]string{"region": "details.region.required"}},
		{name: "GB", in: addr("GB", "", "sw1a1aa"), want: addr("GB", "", "SW1A 1AA")},
		{name: "GB malformed", in: addr("GB", "", "SW1A"), fields: map[string]string{"postcode": "details.postcode.gb"}},
		{name: "letters in a German code", in: addr("DE", "", "1O115"), fields: map[string]string{"postcode": "details.postcode.de"}},
		{name: "unsupported country", in: addr("ZZ", "", "123"), fields: map[string]string{"country": "details.country.unsupported"}},
		{name: "nothing", in: issuer.Address{}, fields: map[string]string{
			"line1": "error.field.required", "city": "error.field.required", "country": "error.field.required"}},
		{name: "spaces collapse", in: issuer.Address{Line1: "  12   Pine  St ", City: " Seattle", Region: " wa", Postcode: " 98101 ", Country: "us "},
			want: issuer.Address{Line1: "12 Pine St", City: "Seattle", Region: "WA", Postcode: "98101", Country: "US"}},
		{name: "too long", in: issuer.Address{Line1: strings.Repeat("a", details.MaxLine+1), City: "X", Postcode: "28013", Country: "ES"},
			fields: map[string]string{"line1": "error.field.toolong"}},
		{name: "control character", in: issuer.Address{Line1: "1 Main\u0007St", City: "X", Postcode: "28013", Country: "ES"},
			fields: map[string]string{"line1": "error.invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := details.Normalize(tt.in)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Normalize: %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				return
			}
			gotFields := map[string]string{}
			for _, f := range cp.ErrorFields(err) {
				gotFields[f.Field] = f.Msg
			}
			if !cp.IsKind(err, cp.Invalid) {
				t.Fatalf("err = %v, want Invalid", err)
			}
			if diff := cmp.Diff(tt.fields, gotFields); diff != "" {
				t.Errorf("field problems (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeStore is a details.Store in memory.
type fakeStore struct {
	holder details.Holder
	sets   int
	events []identity.Event
}

func (f *fakeStore) MemberHolder(context.Context, identity.MemberID) (details.Holder, error) {
	return f.holder, nil
}

func (f *fakeStore) SetMemberAddress(_ context.Context, _ identity.MemberID, a issuer.Address, at time.Time) error {
	f.sets++
	f.holder.Address, f.holder.UpdatedAt = a, at
	return nil
}

func (f *fakeStore) RecordEvent(_ context.Context, e *identity.Event) error {
	f.events = append(f.events, *e)
	return nil
}

func (f *fakeStore) ListEvents(context.Context, identity.MemberID, int) ([]identity.Event, error) {
	return f.events, nil
}

func (f *fakeStore) RecentEvents(context.Context, identity.MemberID, []identity.EventKind, int) ([]identity.Event, error) {
	return nil, nil
}

func (f *fakeStore) EventKindsSince(context.Context, identity.MemberID, int64) ([]identity.EventKind, error) {
	return nil, nil
}

// fakeAuth accepts one password and counts checks.
type fakeAuth struct{ checks int }

func (a *fakeAuth) ConfirmPassword(_ context.Context, _ identity.MemberID, pw string) error {
	a.checks++
	if pw != "right" {
		return cp.InvalidFields("test", cp.FieldError{Field: "password", Msg: "mfa.password.wrong"})
	}
	return nil
}

type sink struct{ msgs []notify.Message }

func (s *sink) Notify(_ context.Context, m notify.Message) error {
	s.msgs = append(s.msgs, m)
	return nil
}

func TestChangeAddress(t *testing.T) {
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	old := issuer.Address{Line1: "1 Old Rd", City: "Austin", Region: "TX", Postcode: "78701", Country: "US"}
	newEnv := func() (*details.Service, *fakeStore, *fakeAuth, *sink) {
		st := &fakeStore{holder: details.Holder{CardholderID: 7, Name: "Ada", Address: old, Email: "ada@example.com", Phone: "+15550100", Locale: "sv"}}
		auth, out := &fakeAuth{}, &sink{}
		return details.New(st, auth, out, func() time.Time { return now }, nil), st, auth, out
	}
	se := issuer.Address{Line1: "Storgatan 1", City: "Uppsala", Postcode: "75320", Country: "SE"}
	src := identity.Source{IP: "192.0.2.1"}

	t.Run("bad address: the password is not even checked", func(t *testing.T) {
		svc, st, auth, out := newEnv()
		_, err := svc.ChangeAddress(t.Context(), 1, "right", addr("SE", "", "1234"), src)
		if !cp.IsKind(err, cp.Invalid) || auth.checks != 0 || st.sets != 0 || len(out.msgs) != 0 {
			t.Errorf("err %v, %d password checks, %d writes, %d notices; want Invalid and nothing done", err, auth.checks, st.sets, len(out.msgs))
		}
	})
	t.Run("wrong password changes nothing", func(t *testing.T) {
		svc, st, _, out := newEnv()
		_, err := svc.ChangeAddress(t.Context(), 1, "wrong", se, src)
		if fs := cp.ErrorFields(err); len(fs) != 1 || fs[0].Field != "password" || st.sets != 0 || len(out.msgs) != 0 || len(st.events) != 0 {
			t.Errorf("err %v, %d writes, %d notices; want a password problem and nothing done", err, st.sets, len(out.msgs))
		}
	})
	t.Run("no password", func(t *testing.T) {
		svc, _, auth, _ := newEnv()
		_, err := svc.ChangeAddress(t.Context(), 1, "", se, src)
		if fs := cp.ErrorFields(err); len(fs) != 1 || fs[0].Msg != "error.field.required" || auth.checks != 0 {
			t.Errorf("err %v, want password required", err)
		}
	})
	t.Run("changed, recorded and announced to every contact", func(t *testing.T) {
		svc, st, _, out := newEnv()
		got, err := svc.ChangeAddress(t.Context(), 1, "right", se, src)
		if err != nil {
			t.Fatal(err)
		}
		want := se
		want.Postcode = "753 20"
		if got != want || st.holder.Address != want || !st.holder.UpdatedAt.Equal(now) {
			t.Errorf("stored %+v at %v, returned %+v; want %+v at %v", st.holder.Address, st.holder.UpdatedAt, got, want, now)
		}
		if len(st.events) != 1 || st.events[0].Kind != details.EventAddressChanged || st.events[0].Detail != "SE" {
			t.Errorf("events = %+v", st.events)
		}
		if len(out.msgs) != 2 || out.msgs[0].Channel != notify.Email || out.msgs[0].To != "ada@example.com" ||
			out.msgs[1].Channel != notify.SMS || out.msgs[1].To != "+15550100" {
			t.Fatalf("notices = %+v; want one email and one SMS", out.msgs)
		}
		for _, m := range out.msgs {
			// The notice says that it changed, not to what: the old inbox may not be
			// the member's any more.
			if strings.Contains(m.Body, "Storgatan") || strings.Contains(m.Body, "753") {
				t.Errorf("notice %s names the new address: %q", m.Channel, m.Body)
			}
			if m.Kind != "details.address" || strings.Contains(m.Body, "notice.") {
				t.Errorf("notice %s untranslated or of kind %q: %q", m.Channel, m.Kind, m.Body)
			}
		}
		if !strings.Contains(out.msgs[0].Subject, "faktureringsadress") {
			t.Errorf("notice not in the member's language (sv): %q", out.msgs[0].Subject)
		}
	})
	t.Run("the same address again announces nothing", func(t *testing.T) {
		svc, st, _, out := newEnv()
		if _, err := svc.ChangeAddress(t.Context(), 1, "right", old, src); err != nil {
			t.Fatal(err)
		}
		if st.sets != 0 || len(out.msgs) != 0 {
			t.Errorf("%d writes, %d notices for an unchanged address", st.sets, len(out.msgs))
		}
	})
}
