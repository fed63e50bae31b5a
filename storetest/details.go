package storetest

import (
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/details"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
)

// fixtureAddress is the billing address Fixture gives Ada (holder 100).
var fixtureAddress = issuer.Address{Line1: "12 Analytical Way", Line2: "Apt 3", City: "Springfield", Region: "IL", Postcode: "62704", Country: "US"}

func testBillingAddress(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()
	ada := register(t, s, 100, "AddrAda")
	byron := register(t, s, 101, "AddrByron")

	h, err := s.MemberHolder(ctx, ada.ID)
	if err != nil {
		t.Fatalf("MemberHolder: %v", err)
	}
	want := details.Holder{CardholderID: 100, Name: "Ada Lovelace", Address: fixtureAddress, Email: "member@example.com", Locale: "en"}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("MemberHolder as loaded from the issuer (-want +got):\n%s", diff)
	}
	h, err = s.MemberHolder(ctx, byron.ID)
	if err != nil || !h.Address.IsZero() || h.CardholderID != 101 {
		t.Errorf("MemberHolder of a holder with no address = %+v, %v; want holder 101 with a zero address", h, err)
	}
	_, err = s.MemberHolder(ctx, 999999)
	wantErr(t, "MemberHolder of no member", err, cp.NotFound, "")

	se := issuer.Address{Line1: "Storgatan 1", City: "Uppsala", Postcode: "753 20", Country: "SE"}
	for _, m := range []identity.MemberID{ada.ID, byron.ID} {
		if err := s.SetMemberAddress(ctx, m, se, Base); err != nil {
			t.Fatalf("SetMemberAddress(%d): %v", m, err)
		}
		h, err := s.MemberHolder(ctx, m)
		if err != nil || h.Address != se || !h.UpdatedAt.Equal(Base) {
			t.Errorf("after SetMemberAddress(%d): %+v, %v; want %+v at %v", m, h, err, se, Base)
		}
	}
	// Only the member's own holder changed: Dan's record has its own address.
	err = s.SetMemberAddress(ctx, 999999, se, Base)
	wantErr(t, "SetMemberAddress of no member", err, cp.NotFound, "")
}

func testMembersByEmail(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()
	ada := register(t, s, 100, "MailAda") // email member@example.com
	dan := register(t, s, 200, "MailDan") // same email: a shared family address
	_ = register(t, s, 101, "MailByron")  // same email, no billing address
	got, err := s.MembersByEmail(ctx, "member@example.com", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("MembersByEmail found %d members, want 3", len(got))
	}
	if got[0].Member.ID != ada.ID || got[0].HolderName != "Ada Lovelace" || got[0].PostcodeKey != "62704" || got[0].Member.UserID != "MailAda" {
		t.Errorf("first candidate = %+v; want Ada with postcode key 62704", got[0])
	}
	if got[1].Member.ID != dan.ID || got[1].PostcodeKey != "11122" {
		t.Errorf("second candidate = %+v; want Dan with postcode key 11122", got[1])
	}
	if got[2].PostcodeKey != "" {
		t.Errorf("candidate without an address has postcode key %q", got[2].PostcodeKey)
	}
	if got, _ := s.MembersByEmail(ctx, "member@example.com", 2); len(got) != 2 {
		t.Errorf("limit 2 returned %d", len(got))
	}
	if got, err := s.MembersByEmail(ctx, "nobody@example.com", 5); err != nil || len(got) != 0 {
		t.Errorf("unknown email = %v, %v; want none", got, err)
	}
	// Stored in mixed case, found by the lower-cased address.
	carol, err := s.CreateMember(ctx, identity.NewMember{UserID: "MailCarol", CardholderID: 102, Name: "Carol",
		Email: "Carol.L@Example.COM", Locale: "en", PasswordHash: "$argon2id$x", CreatedAt: Base})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.MembersByEmail(ctx, "carol.l@example.com", 5); err != nil || len(got) != 1 || got[0].Member.ID != carol.ID {
		t.Errorf("MembersByEmail of a mixed-case address = %+v, %v; want Carol", got, err)
	}
	// The candidate follows an address change.
	if err := s.SetMemberAddress(ctx, ada.ID, issuer.Address{Line1: "1 Rue", City: "Paris", Postcode: "75001", Country: "FR"}, Base); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.MembersByEmail(ctx, "member@example.com", 1); len(got) != 1 || got[0].PostcodeKey != "75001" {
		t.Errorf("after an address change the candidate's postcode key is %+v, want 75001", got)
	}
}
