// Package storetest is the contract suite every storage backend of cardportal runs:
// the behaviour the identity, account, notify and issuer interfaces promise, checked
// through those interfaces on a real database. The sqlite tests run it always, the
// postgres tests when CARDPORTAL_TEST_POSTGRES names a database. A new backend passes
// when Run passes.
package storetest

import (
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/details"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/payment"
	"github.com/cardportal/cardportal/rewards"
	"github.com/cardportal/cardportal/statement"
)

// Store is everything a storage backend provides.
type Store interface {
	identity.Store
	account.Store
	account.Ledger
	notify.OutboxStore
	notify.QueueStore
	jobs.Store
	issuer.Loader
	cardservice.Store
	Purger

	rewards.Store  // rewards.go
	rewards.Loader // rewards.go
	offers.Store   // rewards.go

	details.Store    // details.go
	alerts.JobStore  // alerts.go
	alerts.CardStore // alerts.go: purchase alerts
	disputes.Store   // disputes.go

	statement.Store
	payment.Store

	authorize.Store // authorize.go
}

// Open returns a store on a fresh, empty database, closed when t ends. It may also
// return a plain connection to the same database, for the few checks no interface can
// make yet (password history and security answers are written but nothing reads them
// so far); with nil those checks are skipped. The suite's SQL uses $1 placeholders.
type Open func(t *testing.T) (Store, *sql.DB)

// Run runs the whole contract suite, each part on its own fresh database.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store, db *sql.DB)
	}{
		{"IssuerLoad", testIssuerLoad},
		{"IssuerLoadLarge", testIssuerLoadLarge},
		{"CardHolder", testCardHolder},
		{"CreateMember", testCreateMember},
		{"MemberLookup", testMemberLookup},
		{"Lockout", testLockout},
		{"LockoutConcurrent", func(t *testing.T, s Store, _ *sql.DB) { ConcurrentLockout(t, s) }},
		{"Purge", func(t *testing.T, s Store, _ *sql.DB) { RunPurge(t, s, s) }},
		{"Sessions", testSessions},
		{"StartSession", testStartSession}, // session.go
		{"Events", testEvents},
		{"Throttle", testThrottle},
		{"ThrottleConcurrent", testThrottleConcurrent},
		{"Flows", testFlows},
		{"Summaries", testSummaries},
		{"LedgerPost", testLedgerPost},
		{"LedgerTexts", testLedgerTexts}, // texts.go
		{"LedgerPostConcurrent", testLedgerPostConcurrent},
		{"LedgerBalance", testLedgerBalance},
		{"Transactions", testTransactions},
		{"TransactionsPaging", testTransactionsPaging},
		{"CardScope", testCardScope},
		{"CardState", testCardState},
		{"CardStateConcurrent", testCardStateConcurrent},
		{"ReplaceCard", testReplaceCard},
		{"CardPIN", testCardPIN},
		{"Devices", testDevices},
		{"StepUps", testStepUps},
		{"TOTP", testTOTPStore},
		{"RecoveryCodes", testRecoveryCodes},
		{"MFASettings", testMFASettings},
		{"PasswordResets", testPasswordResets}, // recovery.go
		{"PasswordChange", testPasswordChange}, // password.go
		{"Licence", testLicence},               // password.go
		{"ContactCodes", testContactCodes},     // contact.go
		{"Passkeys", testPasskeys},             // passkey.go
		{"WebAuthnChallenges", testWebAuthnChallenges},
		{"Outbox", testOutbox},
		{"OutboxDelivery", testOutboxDelivery},
		{"JobsEnqueue", testJobsEnqueue},
		{"JobsClaim", testJobsClaim},
		{"JobsLease", testJobsLease},
		{"JobsConcurrent", func(t *testing.T, s Store, _ *sql.DB) { ConcurrentClaims(t, s) }},
		{"RewardsLoad", testRewardsLoad},                       // rewards.go
		{"RewardsSweep", testRewardsSweep},                     // rewards.go
		{"RewardsBalance", testRewardsBalance},                 // rewards.go
		{"RewardsSweepConcurrent", testRewardsSweepConcurrent}, // rewards.go
		{"RewardsSweepOverlap", testRewardsSweepOverlap},       // rewards.go
		{"Redeem", testRedeem},                                 // rewards.go
		{"RedeemConcurrent", testRedeemConcurrent},             // rewards.go
		{"Offers", testOffers},                                 // rewards.go
		{"OffersSweepConcurrent", testOffersSweepConcurrent},   // rewards.go

		{"BankAccounts", testBankAccounts},                         // payments.go
		{"Payments", testPayments},                                 // payments.go
		{"PaymentsConcurrent", testPaymentsConcurrent},             // payments.go
		{"PaymentCancelRace", testPaymentCancelRace},               // payments.go
		{"Autopay", testAutopay},                                   // payments.go
		{"PaymentRecovery", testPaymentRecovery},                   // payments.go
		{"StatementClose", testStatementClose},                     // statements.go
		{"StatementCloseConcurrent", testStatementCloseConcurrent}, // statements.go
		{"StatementLoad", testStatementLoad},                       // statements.go

		{"BillingAddress", testBillingAddress},   // details.go
		{"MembersByEmail", testMembersByEmail},   // details.go
		{"AlertPrefs", testAlertPrefs},           // alerts.go
		{"Alertees", testAlertees},               // alerts.go
		{"DueStatements", testDueStatements},     // alerts.go
		{"ClaimAlertConcurrent", testClaimAlert}, // alerts.go
		{"Disputes", testDisputes},               // disputes.go
		{"DisputeOneOpen", testDisputeOneOpen},   // disputes.go

		{"Authorise", testAuthorise},                     // authorize.go
		{"AuthoriseReverseClear", testAuthReverseClear},  // authorize.go
		{"AuthorisePINTries", testAuthPINTries},          // authorize.go
		{"AuthoriseConcurrent", testAuthoriseConcurrent}, // authorize.go
		{"AuthoriseTokens", testAuthTokens},              // tokens.go
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, db := open(t)
			tt.fn(t, s, db)
		})
	}
}

// Lockout parameters used throughout.
const (
	maxFailures = 3
	lockFor     = 15 * time.Minute
)

// ConcurrentLockout checks that BeginPasswordAttempt admits exactly maxFailures of 50
// simultaneous attempts. The stores must share one fresh database; the attempts are
// spread across them, so two stores stand for two instances of the program. A race
// only shows when the scheduler interleaves the callers, so the round is repeated,
// with a reset in between, to catch a non-atomic implementation reliably.
func ConcurrentLockout(t *testing.T, stores ...Store) {
	t.Helper()
	s := stores[0]
	mustLoad(t, s)
	m := register(t, s, 100, "ConcurrentUser")
	const (
		rounds  = 10
		callers = 50
	)
	for round := range rounds {
		if err := s.ResetPasswordAttempts(t.Context(), m.ID); err != nil {
			t.Fatalf("ResetPasswordAttempts: %v", err)
		}
		var (
			start   = make(chan struct{})
			wg      sync.WaitGroup
			mu      sync.Mutex
			allowed []int
			refused int
			errs    []error
		)
		for i := range callers {
			wg.Go(func() {
				st := stores[i%len(stores)]
				<-start
				a, err := st.BeginPasswordAttempt(t.Context(), m.ID, Base, maxFailures, lockFor)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case a.Allowed:
					allowed = append(allowed, a.Failures)
				default:
					refused++
					if !a.LockedUntil.Equal(Base.Add(lockFor)) {
						errs = append(errs, fmt.Errorf("refused attempt: LockedUntil = %v, want %v", a.LockedUntil, Base.Add(lockFor)))
					}
				}
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		slices.Sort(allowed)
		if diff := cmp.Diff([]int{1, 2, 3}, allowed); diff != "" {
			t.Fatalf("round %d: Failures of the allowed attempts (-want +got):\n%s", round, diff)
		}
		if refused != callers-maxFailures {
			t.Fatalf("round %d: refused %d attempts, want %d", round, refused, callers-maxFailures)
		}
	}
}

// mustLoad loads Fixture.
func mustLoad(t *testing.T, s Store) {
	t.Helper()
	if err := s.LoadIssuer(t.Context(), Fixture()); err != nil {
		t.Fatalf("LoadIssuer: %v", err)
	}
}

// register creates a member for a fixture card holder.
func register(t *testing.T, s Store, holder int64, userID string) identity.Member {
	t.Helper()
	m, err := s.CreateMember(t.Context(), identity.NewMember{
		UserID: userID, CardholderID: holder, Name: fmt.Sprintf("Holder %d", holder),
		Email: "member@example.com", Locale: "en", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		CreatedAt: Base,
	})
	if err != nil {
		t.Fatalf("CreateMember(%d, %q): %v", holder, userID, err)
	}
	return m
}

// wantErr checks err's kind and, when msg is not empty, its user-safe message.
func wantErr(t *testing.T, what string, err error, kind cp.Kind, msg string) {
	t.Helper()
	if !cp.IsKind(err, kind) {
		t.Errorf("%s: error %v, want kind %v", what, err, kind)
		return
	}
	if msg != "" {
		if got := cp.ErrorMsg(err); got != msg {
			t.Errorf("%s: message %q, want %q", what, got, msg)
		}
	}
}

// count runs a COUNT(*) query on the plain connection.
func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func testIssuerLoad(t *testing.T, s Store, db *sql.DB) {
	ctx := t.Context()
	has, err := s.HasIssuerData(ctx)
	if err != nil || has {
		t.Fatalf("HasIssuerData on an empty store = %v, %v; want false, nil", has, err)
	}
	mustLoad(t, s)
	if has, err := s.HasIssuerData(ctx); err != nil || !has {
		t.Fatalf("HasIssuerData after loading = %v, %v; want true, nil", has, err)
	}

	wantErr(t, "loading the same dataset again", s.LoadIssuer(ctx, Fixture()), cp.Conflict, "")
	// A dataset that collides with nothing stored must be refused all the same, and
	// leave no trace.
	other := issuer.Dataset{
		Products:    []issuer.Product{{ID: 9, Code: "other", Name: "Other", PANLength: 16, Currency: "EUR"}},
		Accounts:    []issuer.Account{{ID: 90, ProductCode: "other", Currency: "EUR", CreditLimit: 1, OpenedAt: Base}},
		CardHolders: []issuer.CardHolder{{ID: 900, AccountID: 90, Basic: true, Name: "Other", BirthDate: date(1990, 1, 1), NationalIDMAC: nationalIDMAC(900)}},
		Cards:       []issuer.Card{{ID: 9000, AccountID: 90, CardHolderID: 900, Sealed: sealed(9000), Fingerprint: Fingerprint(9000), Last: "0000", ExpMonth: 1, ExpYear: 2030, State: issuer.StateActive, IssuedAt: Base}},
		Postings:    []issuer.Posting{{ID: 90000, AccountID: 90, Amount: 1, Kind: "fee", PostedAt: Base}},
	}
	wantErr(t, "loading a second dataset", s.LoadIssuer(ctx, other), cp.Conflict, "")
	_, err = s.CardHolderByFingerprint(ctx, Fingerprint(9000))
	wantErr(t, "card of the refused dataset", err, cp.NotFound, "")
	if sums, err := s.Summaries(ctx, 900); err != nil || len(sums) != 0 {
		t.Errorf("Summaries of the refused dataset's holder = %v, %v; want none", sums, err)
	}
	sums, err := s.Summaries(ctx, 100)
	if err != nil || len(sums) != 1 || sums[0].Balance != 6500 {
		t.Errorf("Summaries(100) after refused loads = %+v, %v; want one account with balance 6500", sums, err)
	}
	if db != nil {
		for table, want := range map[string]int{"products": 2, "accounts": 2, "cardholders": 4, "cards": 5, "postings": 3} {
			if n := count(t, db, "SELECT COUNT(*) FROM "+table); n != want {
				t.Errorf("%s holds %d rows, want %d", table, n, want)
			}
		}
	}
}

func testIssuerLoadLarge(t *testing.T, s Store, _ *sql.DB) {
	d := Large(300, 20000)
	start := time.Now()
	if err := s.LoadIssuer(t.Context(), d); err != nil {
		t.Fatalf("LoadIssuer: %v", err)
	}
	t.Logf("loaded %d accounts, %d holders, %d cards, %d postings in %v",
		len(d.Accounts), len(d.CardHolders), len(d.Cards), len(d.Postings), time.Since(start))
	h := d.CardHolders[len(d.CardHolders)/2]
	var want int64
	for _, p := range d.Postings {
		if p.AccountID == h.AccountID {
			want += p.Amount
		}
	}
	sums, err := s.Summaries(t.Context(), h.ID)
	if err != nil || len(sums) != 1 {
		t.Fatalf("Summaries = %v, %v; want one account", sums, err)
	}
	if sums[0].AccountID != h.AccountID || sums[0].Balance != want {
		t.Errorf("account %d balance %d, want account %d balance %d", sums[0].AccountID, sums[0].Balance, h.AccountID, want)
	}
}

func testCardHolder(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	ada := identity.CardHolder{
		CardholderID: 100, AccountID: 10, CardID: 1000, CardLast: "1234", Role: identity.Basic,
		Name: "Ada Lovelace", DateOfBirth: date(1980, 4, 2), NationalIDMAC: nationalIDMAC(100),
		Expiry: cardExpiry(12, 2028), Active: true, Email: "ada@example.com", Phone: "+15550100",
	}
	byron := identity.CardHolder{
		CardholderID: 101, AccountID: 10, CardID: 1001, CardLast: "5678", Role: identity.Additional,
		Name: "Byron Lovelace", DateOfBirth: date(2001, 7, 15), NationalIDMAC: nationalIDMAC(101),
		BasicDOB: date(1980, 4, 2), Expiry: cardExpiry(6, 2027), Active: true, Email: "byron@example.com",
	}
	adaLost := ada
	adaLost.CardID, adaLost.CardLast, adaLost.Expiry, adaLost.Active = 1002, "4321", cardExpiry(1, 2029), false
	dan := identity.CardHolder{
		CardholderID: 200, AccountID: 20, CardID: 2000, CardLast: "12345", Role: identity.Basic,
		Name: "Dan Brown", DateOfBirth: date(1975, 11, 30), NationalIDMAC: nationalIDMAC(200),
		Expiry: cardExpiry(9, 2029), Active: true, Phone: "+15550200",
	}
	carolClosed := identity.CardHolder{
		CardholderID: 102, AccountID: 10, CardID: 1003, CardLast: "8888", Role: identity.Additional,
		Name: "Carol Lovelace", DateOfBirth: date(1999, 1, 1), NationalIDMAC: nationalIDMAC(102),
		BasicDOB: date(1980, 4, 2), Expiry: cardExpiry(3, 2027), Active: false,
	}

	byFP := []struct {
		name string
		card int64
		want identity.CardHolder
	}{
		{"basic, active card", 1000, ada},
		{"additional, card not yet activated", 1001, byron},
		{"lost card", 1002, adaLost},
		{"closed card", 1003, carolClosed},
		{"frozen card, 15 digits", 2000, dan},
	}
	for _, tt := range byFP {
		t.Run("ByFingerprint/"+tt.name, func(t *testing.T) {
			got, err := s.CardHolderByFingerprint(ctx, Fingerprint(tt.card))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	_, err := s.CardHolderByFingerprint(ctx, Fingerprint(4242))
	wantErr(t, "unknown fingerprint", err, cp.NotFound, "")

	byID := []struct {
		name   string
		holder int64
		want   identity.CardHolder
	}{
		{"newest card that is not lost", 100, ada},
		{"additional", 101, byron},
		{"frozen card", 200, dan},
	}
	for _, tt := range byID {
		t.Run("ByID/"+tt.name, func(t *testing.T) {
			got, err := s.CardHolderByID(ctx, tt.holder)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	_, err = s.CardHolderByID(ctx, 102)
	wantErr(t, "holder with only a closed card", err, cp.NotFound, "")
	_, err = s.CardHolderByID(ctx, 4242)
	wantErr(t, "unknown holder", err, cp.NotFound, "")

	m := register(t, s, 101, "ByronL01")
	got, err := s.CardHolderByFingerprint(ctx, Fingerprint(1001))
	if err != nil || got.MemberID != m.ID {
		t.Errorf("after registration: CardHolderByFingerprint MemberID = %d, %v; want %d", got.MemberID, err, m.ID)
	}
	got, err = s.CardHolderByID(ctx, 101)
	if err != nil || got.MemberID != m.ID {
		t.Errorf("after registration: CardHolderByID MemberID = %d, %v; want %d", got.MemberID, err, m.ID)
	}
	if got, _ := s.CardHolderByID(ctx, 100); got.MemberID != 0 {
		t.Errorf("another holder on the account got MemberID %d", got.MemberID)
	}
}

func testCreateMember(t *testing.T, s Store, db *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	in := identity.NewMember{
		UserID: "AdaLove1", CardholderID: 100, Name: "Ada Lovelace", Email: "ada@example.com",
		Phone: "+15550100", Locale: "en-GB", PasswordHash: "$argon2id$first",
		Answers: []identity.SecurityAnswer{
			{QuestionID: "first-pet", AnswerHash: "$argon2id$pet"},
			{QuestionID: "birth-city", AnswerHash: "$argon2id$city"},
		},
		CreatedAt: Base,
	}
	m, err := s.CreateMember(ctx, in)
	if err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	if m.ID == 0 {
		t.Error("CreateMember returned member ID 0")
	}
	want := identity.Member{ID: m.ID, UserID: "AdaLove1", CardholderID: 100, Name: "Ada Lovelace",
		Email: "ada@example.com", Phone: "+15550100", Locale: "en-GB", CreatedAt: Base}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("CreateMember (-want +got):\n%s", diff)
	}
	if ch, err := s.CardHolderByID(ctx, 100); err != nil || ch.MemberID != m.ID {
		t.Errorf("card holder 100 MemberID = %d, %v; want %d", ch.MemberID, err, m.ID)
	}
	if db != nil {
		if n := count(t, db, `SELECT COUNT(*) FROM password_history WHERE member_id = $1 AND hash = $2`, int64(m.ID), "$argon2id$first"); n != 1 {
			t.Errorf("password history entries = %d, want 1", n)
		}
		for _, a := range in.Answers {
			if n := count(t, db, `SELECT COUNT(*) FROM security_answers WHERE member_id = $1 AND question_id = $2 AND answer_hash = $3`,
				int64(m.ID), a.QuestionID, a.AnswerHash); n != 1 {
				t.Errorf("security answer %q stored %d times, want 1", a.QuestionID, n)
			}
		}
	}

	// Refused registrations write nothing.
	taken := in
	taken.UserID, taken.CardholderID = "ADALOVE1", 200
	_, err = s.CreateMember(ctx, taken)
	wantErr(t, "User ID taken in another case", err, cp.Conflict, "userid.taken")
	if ch, err := s.CardHolderByID(ctx, 200); err != nil || ch.MemberID != 0 {
		t.Errorf("after a refused registration, card holder 200 MemberID = %d, %v; want 0", ch.MemberID, err)
	}
	again := in
	again.UserID = "SomeoneElse"
	_, err = s.CreateMember(ctx, again)
	wantErr(t, "card holder already registered", err, cp.Conflict, "register.already")
	_, _, err = s.MemberByUserID(ctx, "SomeoneElse")
	wantErr(t, "User ID of a refused registration", err, cp.NotFound, "")
	unknown := in
	unknown.UserID, unknown.CardholderID = "NobodyAtAll", 4242
	_, err = s.CreateMember(ctx, unknown)
	wantErr(t, "unknown card holder", err, cp.NotFound, "")
	if db != nil {
		for table, want := range map[string]int{"members": 1, "password_history": 1, "security_answers": 2} {
			if n := count(t, db, "SELECT COUNT(*) FROM "+table); n != want {
				t.Errorf("after refused registrations %s holds %d rows, want %d", table, n, want)
			}
		}
	}

	// Rehashing replaces the hash and nothing else.
	if err := s.SetPasswordHash(ctx, m.ID, "$argon2id$stronger"); err != nil {
		t.Fatalf("SetPasswordHash: %v", err)
	}
	_, cred, err := s.MemberByUserID(ctx, "adalove1")
	if err != nil {
		t.Fatalf("MemberByUserID: %v", err)
	}
	if diff := cmp.Diff(identity.Credential{MemberID: m.ID, PasswordHash: "$argon2id$stronger", ChangedAt: Base}, cred); diff != "" {
		t.Errorf("credential after SetPasswordHash (-want +got):\n%s", diff)
	}
	if db != nil {
		if n := count(t, db, `SELECT COUNT(*) FROM password_history WHERE member_id = $1`, int64(m.ID)); n != 1 {
			t.Errorf("SetPasswordHash changed the password history: %d entries, want 1", n)
		}
	}
	wantErr(t, "SetPasswordHash of an unknown member", s.SetPasswordHash(ctx, 4242, "x"), cp.NotFound, "")
}

func testMemberLookup(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	m := register(t, s, 200, "DanBrown75")
	for _, userID := range []string{"DanBrown75", "danbrown75", "DANBROWN75"} {
		got, cred, err := s.MemberByUserID(ctx, userID)
		if err != nil {
			t.Errorf("MemberByUserID(%q): %v", userID, err)
			continue
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Errorf("MemberByUserID(%q) (-want +got):\n%s", userID, diff)
		}
		wantCred := identity.Credential{MemberID: m.ID, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", ChangedAt: Base}
		if diff := cmp.Diff(wantCred, cred); diff != "" {
			t.Errorf("MemberByUserID(%q) credential (-want +got):\n%s", userID, diff)
		}
	}
	got, err := s.MemberByID(ctx, m.ID)
	if err != nil {
		t.Fatalf("MemberByID: %v", err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("MemberByID (-want +got):\n%s", diff)
	}
	_, _, err = s.MemberByUserID(ctx, "NoSuchUser")
	wantErr(t, "unknown User ID", err, cp.NotFound, "")
	_, err = s.MemberByID(ctx, m.ID+1000)
	wantErr(t, "unknown member", err, cp.NotFound, "")
}

func testLockout(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	m := register(t, s, 100, "LockedOut1")
	lockEnd := Base.Add(lockFor)
	steps := []struct {
		name  string
		at    time.Time
		max   int
		reset bool // ResetPasswordAttempts instead of an attempt
		want  identity.Attempt
	}{
		{name: "first", at: Base, want: identity.Attempt{Allowed: true, Failures: 1}},
		{name: "second", at: Base, want: identity.Attempt{Allowed: true, Failures: 2}},
		{name: "third locks at once", at: Base, want: identity.Attempt{Allowed: true, Failures: 3, LockedUntil: lockEnd}},
		{name: "fourth refused", at: Base.Add(time.Minute), want: identity.Attempt{LockedUntil: lockEnd}},
		{name: "still refused with a higher max", at: Base.Add(2 * time.Minute), max: 5, want: identity.Attempt{LockedUntil: lockEnd}},
		{name: "refused just before the end", at: lockEnd.Add(-time.Microsecond), want: identity.Attempt{LockedUntil: lockEnd}},
		{name: "expired lock restarts the count", at: lockEnd, want: identity.Attempt{Allowed: true, Failures: 1}},
		{name: "counting again", at: lockEnd, want: identity.Attempt{Allowed: true, Failures: 2}},
		{name: "reset", reset: true},
		{name: "reset clears the count", at: lockEnd, want: identity.Attempt{Allowed: true, Failures: 1}},
		{name: "lowered max locks", at: lockEnd, max: 1, want: identity.Attempt{LockedUntil: lockEnd.Add(lockFor)}},
		{name: "lock from a lowered max ends", at: lockEnd.Add(lockFor), want: identity.Attempt{Allowed: true, Failures: 1}},
	}
	for _, st := range steps {
		if st.reset {
			if err := s.ResetPasswordAttempts(ctx, m.ID); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			continue
		}
		max := st.max
		if max == 0 {
			max = maxFailures
		}
		got, err := s.BeginPasswordAttempt(ctx, m.ID, st.at, max, lockFor)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", st.name, diff)
		}
	}
	_, err := s.BeginPasswordAttempt(ctx, m.ID+1000, Base, maxFailures, lockFor)
	wantErr(t, "BeginPasswordAttempt of an unknown member", err, cp.NotFound, "")
	wantErr(t, "ResetPasswordAttempts of an unknown member", s.ResetPasswordAttempts(ctx, m.ID+1000), cp.NotFound, "")
}

func testSessions(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	ada := register(t, s, 100, "AdaSessions").ID
	dan := register(t, s, 200, "DanSessions").ID
	newSession := func(token string, member identity.MemberID, client identity.Client, created time.Time, life time.Duration) identity.Session {
		t.Helper()
		sess := identity.Session{
			TokenHash: []byte("hash-of-" + token), MemberID: member, Client: client,
			CreatedAt: created, LastSeenAt: created, ExpiresAt: created.Add(life), IdleTimeout: 15 * time.Minute,
			IP: "192.0.2.1", UserAgent: "test/" + token,
		}
		if err := s.StartSession(ctx, identity.SessionStart{Session: &sess}); err != nil {
			t.Fatalf("StartSession(%s): %v", token, err)
		}
		if sess.ID == 0 {
			t.Fatalf("StartSession(%s) left ID 0", token)
		}
		return sess
	}
	list := func(member identity.MemberID, now time.Time) []int64 {
		t.Helper()
		all, err := s.ListSessions(ctx, member, now)
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		ids := []int64{}
		for _, x := range all {
			ids = append(ids, x.ID)
		}
		return ids
	}
	wantList := func(what string, member identity.MemberID, now time.Time, want ...int64) {
		t.Helper()
		if want == nil {
			want = []int64{}
		}
		if diff := cmp.Diff(want, list(member, now)); diff != "" {
			t.Errorf("%s: session IDs (-want +got):\n%s", what, diff)
		}
	}

	s1 := newSession("one", ada, identity.Web, Base, 12*time.Hour)
	got, err := s.SessionByTokenHash(ctx, []byte("hash-of-one"))
	if err != nil {
		t.Fatalf("SessionByTokenHash: %v", err)
	}
	s1.CardholderID = 100 // read with it: Ada's, who registered with card holder 100
	if diff := cmp.Diff(s1, got); diff != "" {
		t.Errorf("SessionByTokenHash (-want +got):\n%s", diff)
	}
	_, err = s.SessionByTokenHash(ctx, []byte("no such hash"))
	wantErr(t, "unknown token hash", err, cp.NotFound, "")

	touch := func(now time.Time, want time.Time) {
		t.Helper()
		if err := s.TouchSession(ctx, s1.ID, now); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}
		got, err := s.SessionByTokenHash(ctx, s1.TokenHash)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastSeenAt.Equal(want) {
			t.Errorf("after TouchSession(%v): LastSeenAt = %v, want %v", now, got.LastSeenAt, want)
		}
	}
	touch(Base.Add(5*time.Minute), Base.Add(5*time.Minute))
	touch(Base.Add(time.Minute), Base.Add(5*time.Minute)) // never backwards
	if err := s.TouchSession(ctx, s1.ID+1000, Base); err != nil {
		t.Errorf("TouchSession of a missing session: %v, want nil", err)
	}

	s2 := newSession("two", ada, identity.App, Base.Add(time.Hour), 30*24*time.Hour)
	s3 := newSession("three", ada, identity.Web, Base.Add(2*time.Hour), time.Hour)
	s4 := newSession("dan", dan, identity.Web, Base.Add(time.Hour), 12*time.Hour)
	wantList("all live", ada, Base.Add(150*time.Minute), s3.ID, s2.ID, s1.ID)
	wantList("one past its expiry", ada, Base.Add(4*time.Hour), s2.ID, s1.ID)

	now := Base.Add(4 * time.Hour)
	wantErr(t, "revoking another member's session", s.RevokeSession(ctx, dan, s1.ID, now), cp.NotFound, "")
	if err := s.RevokeSession(ctx, ada, s1.ID, now); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	wantErr(t, "revoking a revoked session", s.RevokeSession(ctx, ada, s1.ID, now), cp.NotFound, "")
	if got, err := s.SessionByTokenHash(ctx, s1.TokenHash); err != nil || !got.RevokedAt.Equal(now) {
		t.Errorf("revoked session: RevokedAt = %v, %v; want %v", got.RevokedAt, err, now)
	}
	wantList("one revoked", ada, now, s2.ID)

	s5 := newSession("five", ada, identity.Web, Base.Add(5*time.Hour), 12*time.Hour)
	now = Base.Add(6 * time.Hour)
	n, err := s.RevokeSessions(ctx, ada, s5.ID, now)
	if err != nil || n != 1 {
		t.Errorf("RevokeSessions(except current) = %d, %v; want 1 (the expired and the revoked ones do not count)", n, err)
	}
	wantList("all but the current revoked", ada, now, s5.ID)
	n, err = s.RevokeSessions(ctx, ada, 0, now)
	if err != nil || n != 1 {
		t.Errorf("RevokeSessions(none excepted) = %d, %v; want 1", n, err)
	}
	wantList("all revoked", ada, now)
	wantList("another member's sessions untouched", dan, now, s4.ID)
}

func testEvents(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	record := func(e identity.Event) identity.Event {
		t.Helper()
		if err := s.RecordEvent(ctx, &e); err != nil {
			t.Fatalf("RecordEvent: %v", err)
		}
		return e
	}
	kinds := []identity.EventKind{identity.EventRegistered, identity.EventSignInOK, identity.EventSignInFail, identity.EventLocked, identity.EventLogout}
	var newestFirst []identity.Event
	for i, k := range kinds {
		e := record(identity.Event{MemberID: 7, Kind: k, At: Base.Add(time.Duration(i) * time.Minute),
			IP: "198.51.100.7", UserAgent: "ua", Detail: fmt.Sprint("detail ", i)})
		if len(newestFirst) > 0 && e.ID <= newestFirst[0].ID {
			t.Errorf("event IDs not increasing: %d after %d", e.ID, newestFirst[0].ID)
		}
		newestFirst = slices.Insert(newestFirst, 0, e)
	}
	other := record(identity.Event{MemberID: 8, Kind: identity.EventSignInOK, At: Base})
	record(identity.Event{Kind: identity.EventRegisterFail, At: Base}) // no member known

	tests := []struct {
		name   string
		member identity.MemberID
		limit  int
		want   []identity.Event
	}{
		{"limited", 7, 3, newestFirst[:3]},
		{"all", 7, 10, newestFirst},
		{"other member", 8, 10, []identity.Event{other}},
		{"no events", 99, 10, nil},
		{"zero limit", 7, 0, nil},
	}
	for _, tt := range tests {
		got, err := s.ListEvents(ctx, tt.member, tt.limit)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	signIns := []identity.EventKind{identity.EventSignInOK, identity.EventRegistered}
	ok, reg := newestFirst[3], newestFirst[4]
	recent := []struct {
		name   string
		member identity.MemberID
		kinds  []identity.EventKind
		limit  int
		want   []identity.Event
	}{
		{"only those kinds, newest first", 7, signIns, 10, []identity.Event{ok, reg}},
		{"limited", 7, signIns, 1, []identity.Event{ok}},
		{"other member", 8, signIns, 10, []identity.Event{other}},
		{"no kinds", 7, nil, 10, nil},
		{"kind never recorded", 7, []identity.EventKind{identity.EventPasswordReset}, 10, nil},
	}
	for _, tt := range recent {
		got, err := s.RecentEvents(ctx, tt.member, tt.kinds, tt.limit)
		if err != nil {
			t.Fatalf("RecentEvents %s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("RecentEvents %s (-want +got):\n%s", tt.name, diff)
		}
	}

	since := []struct {
		name   string
		member identity.MemberID
		after  int64
		want   []identity.EventKind
	}{
		{"after the sign-in", 7, ok.ID, []identity.EventKind{identity.EventSignInFail, identity.EventLocked, identity.EventLogout}},
		{"after the newest", 7, newestFirst[0].ID, nil},
		{"from the start", 8, 0, []identity.EventKind{identity.EventSignInOK}},
		{"no events", 99, 0, nil},
	}
	for _, tt := range since {
		got, err := s.EventKindsSince(ctx, tt.member, tt.after)
		if err != nil {
			t.Fatalf("EventKindsSince %s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty(), cmpopts.SortSlices(func(a, b identity.EventKind) bool { return a < b })); diff != "" {
			t.Errorf("EventKindsSince %s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func testThrottle(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	steps := []struct {
		name      string
		key       string
		window    time.Duration
		at        time.Time
		wantCount int
		wantEnd   time.Time
	}{
		{"first hit", "signin-ip:192.0.2.1", time.Minute, Base.Add(10 * time.Second), 1, Base.Add(time.Minute)},
		{"same window", "signin-ip:192.0.2.1", time.Minute, Base.Add(50 * time.Second), 2, Base.Add(time.Minute)},
		{"other key", "signin-ip:192.0.2.2", time.Minute, Base.Add(50 * time.Second), 1, Base.Add(time.Minute)},
		{"new window at its first instant", "signin-ip:192.0.2.1", time.Minute, Base.Add(time.Minute), 1, Base.Add(2 * time.Minute)},
		{"new window counts", "signin-ip:192.0.2.1", time.Minute, Base.Add(90 * time.Second), 2, Base.Add(2 * time.Minute)},
		{"a lagging clock's hit counts in the current window", "signin-ip:192.0.2.1", time.Minute, Base.Add(59 * time.Second), 3, Base.Add(2 * time.Minute)},
		{"windows are aligned", "register-ip:192.0.2.1", 15 * time.Minute, Base.Add(20 * time.Minute), 1, Base.Add(30 * time.Minute)},
	}
	for _, st := range steps {
		n, end, err := s.Hit(ctx, st.key, st.window, st.at)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if n != st.wantCount || !end.Equal(st.wantEnd) {
			t.Errorf("%s: Hit = %d, %v; want %d, %v", st.name, n, end, st.wantCount, st.wantEnd)
		}
	}
}

func testThrottleConcurrent(t *testing.T, s Store, _ *sql.DB) {
	const callers = 50
	var (
		start  = make(chan struct{})
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts []int
	)
	for range callers {
		wg.Go(func() {
			<-start
			n, _, err := s.Hit(t.Context(), "busy", time.Hour, Base)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			counts = append(counts, n)
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(counts)
	want := make([]int, callers)
	for i := range want {
		want[i] = i + 1
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("counts returned to %d concurrent hits (-want +got):\n%s", callers, diff)
	}
}

func testFlows(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	f := identity.Flow{TokenHash: []byte("flow-token-hash"), Kind: "registration", CardholderID: 100, CreatedAt: Base, ExpiresAt: Base.Add(15 * time.Minute)}
	if err := s.CreateFlow(ctx, f); err != nil {
		t.Fatalf("CreateFlow: %v", err)
	}
	got, err := s.FlowByTokenHash(ctx, f.TokenHash)
	if err != nil {
		t.Fatalf("FlowByTokenHash: %v", err)
	}
	if diff := cmp.Diff(f, got); diff != "" {
		t.Errorf("FlowByTokenHash (-want +got):\n%s", diff)
	}
	wantErr(t, "CreateFlow with a used token hash", s.CreateFlow(ctx, f), cp.Conflict, "")
	if err := s.DeleteFlow(ctx, f.TokenHash); err != nil {
		t.Fatalf("DeleteFlow: %v", err)
	}
	_, err = s.FlowByTokenHash(ctx, f.TokenHash)
	wantErr(t, "deleted flow", err, cp.NotFound, "")
	if err := s.DeleteFlow(ctx, f.TokenHash); err != nil {
		t.Errorf("DeleteFlow of a deleted flow: %v, want nil", err)
	}
	_, err = s.FlowByTokenHash(ctx, []byte("never stored"))
	wantErr(t, "unknown flow", err, cp.NotFound, "")
}

func testSummaries(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	gold := func(cards ...account.Card) []account.Summary {
		return []account.Summary{{
			// Nothing due: that comes from statements (storetest/statements.go), and the
			// fixture's payment_due and minimum_due columns are no longer read.
			AccountID: 10, ProductName: "Gold Card", Currency: "USD", Balance: 6500, CreditLimit: 500000, Cards: cards,
		}}
	}
	var (
		c1000 = account.Card{CardID: 1000, Last: "1234", HolderName: "Ada Lovelace", Basic: true, State: issuer.StateActive, Expiry: "12/28"}
		c1001 = account.Card{CardID: 1001, Last: "5678", HolderName: "Byron Lovelace", State: issuer.StateInactive, Expiry: "06/27"}
		c1002 = account.Card{CardID: 1002, Last: "4321", HolderName: "Ada Lovelace", Basic: true, State: issuer.StateLost, Expiry: "01/29"}
		c1003 = account.Card{CardID: 1003, Last: "8888", HolderName: "Carol Lovelace", State: issuer.StateClosed, Expiry: "03/27"}
		c2000 = account.Card{CardID: 2000, Last: "12345", HolderName: "Dan Brown", Basic: true, State: issuer.StateFrozen, Expiry: "09/29"}
	)
	tests := []struct {
		name   string
		holder int64
		want   []account.Summary
	}{
		// Basic holder's cards first, newest first.
		{"basic sees every card", 100, gold(c1002, c1000, c1001, c1003)},
		{"additional sees own cards", 101, gold(c1001)},
		{"no postings, nothing due", 200, []account.Summary{{AccountID: 20, ProductName: "Platinum Card", Currency: "USD", CreditLimit: 1000000, Cards: []account.Card{c2000}}}},
		{"unknown holder", 4242, []account.Summary{}},
	}
	for _, tt := range tests {
		got, err := s.Summaries(ctx, tt.holder)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got == nil {
			t.Errorf("%s: nil slice, want an empty one", tt.name)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func testOutbox(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	var added []notify.Message
	for i, ch := range []notify.Channel{notify.Email, notify.SMS, notify.Push} {
		m := notify.Message{MemberID: int64(i + 1), Channel: ch, To: fmt.Sprint("to-", i), Kind: "locked",
			Subject: fmt.Sprint("subject ", i), Body: fmt.Sprint("body ", i), CreatedAt: Base.Add(time.Duration(i) * time.Second)}
		if err := s.AddOutbox(ctx, &m); err != nil {
			t.Fatalf("AddOutbox: %v", err)
		}
		if m.ID == 0 {
			t.Fatal("AddOutbox left ID 0")
		}
		added = append(added, m)
	}
	slices.Reverse(added)
	for _, limit := range []int{2, 10} {
		got, err := s.ListOutbox(ctx, limit)
		if err != nil {
			t.Fatalf("ListOutbox(%d): %v", limit, err)
		}
		want := added[:min(limit, len(added))]
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListOutbox(%d) (-want +got):\n%s", limit, diff)
		}
	}
}

func cardExpiry(month, year int) card.Expiry { return card.Expiry{Month: month, Year: year} }
