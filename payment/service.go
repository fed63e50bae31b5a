package payment

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
)

// Poster is the part of account.Ledger that executing a payment uses.
type Poster interface {
	Post(ctx context.Context, e account.Entry) (account.Transaction, error)
}

// Sealer is the part of the HSM that keeps account numbers.
type Sealer interface {
	SealSecret(purpose string, secret []byte) (cardcrypto.Sealed, error)
	MAC(purpose string, data []byte) []byte
}

// Config is the payment policy. Zero fields take DefaultConfig's values.
type Config struct {
	// MaxAhead is how far ahead a payment may be scheduled.
	MaxAhead time.Duration
	// Stale is how long a payment may stay processing before the job takes it up
	// again (its executor died between claim and posting).
	Stale time.Duration
	// MaxBankAccounts caps the bank accounts linked to one card account.
	MaxBankAccounts int
}

// DefaultConfig is the policy the issuer ships: a year ahead at most.
var DefaultConfig = Config{MaxAhead: 365 * 24 * time.Hour, Stale: 10 * time.Minute, MaxBankAccounts: 5}

// Limits on member input.
const (
	MaxKeyLen      = 64 // idempotency keys (a UUID is 36)
	MaxNicknameLen = 40
	ListLimit      = 100
)

// Service runs payments. It keeps no state: everything lives in the store, shared by
// every instance.
type Service struct {
	store    Store
	ledger   Poster
	hsm      Sealer
	notifier notify.Notifier
	cfg      Config
	now      func() time.Time
	log      *slog.Logger
	rand     io.Reader
	// received, when set, raises the member's "payment received" alert (SPEC AC12)
	// on the channels they chose, besides the receipt email.
	received func(ctx context.Context, member identity.MemberID, amount int64, currency string)
}

// OnReceived sets what raises the "payment received" alert after a payment posts. It
// is called once per posted payment, after the receipt email; it must not fail the
// payment, so it returns nothing. Set it before the service is used.
func (s *Service) OnReceived(fn func(ctx context.Context, member identity.MemberID, amount int64, currency string)) {
	s.received = fn
}

// New returns a Service. now is the clock, injected so tests can move time.
func New(store Store, ledger Poster, hsm Sealer, n notify.Notifier, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxAhead <= 0 {
		cfg.MaxAhead = DefaultConfig.MaxAhead
	}
	if cfg.Stale <= 0 {
		cfg.Stale = DefaultConfig.Stale
	}
	if cfg.MaxBankAccounts <= 0 {
		cfg.MaxBankAccounts = DefaultConfig.MaxBankAccounts
	}
	return &Service{store: store, ledger: ledger, hsm: hsm, notifier: n, cfg: cfg, now: now, log: log, rand: rand.Reader}
}

// Today is the civil date (UTC) payments are dated by. Members' time zones are not
// known yet, so the issuer's day is UTC's.
func (s *Service) Today() time.Time { return civil(s.now()) }

// MaxDate is the last date a payment may be scheduled for today.
func (s *Service) MaxDate() time.Time { return civil(s.now().Add(s.cfg.MaxAhead)) }

func civil(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// payer returns the member's standing, refusing an additional card member.
func (s *Service) payer(ctx context.Context, op string, member identity.MemberID) (Payer, error) {
	p, err := s.store.Payer(ctx, member)
	if err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return Payer{}, cp.E(op, cp.Unauthenticated, "", err)
		}
		return Payer{}, cp.E(op, cp.Internal, "", err)
	}
	if !p.Basic {
		return Payer{}, cp.E(op, cp.Forbidden, "payment.error.basiconly", nil)
	}
	return p, nil
}

// Payer returns the member's standing for the payment pages: Forbidden for an
// additional card member.
func (s *Service) Payer(ctx context.Context, member identity.MemberID) (Payer, error) {
	return s.payer(ctx, "payment.Payer", member)
}

// scoped maps a store error to the caller's: NotFound stays, others are Internal
// unless they carry a message for the member.
func scoped(op string, err error) error {
	switch k := cp.ErrorKind(err); k {
	case cp.NotFound, cp.Conflict, cp.Invalid:
		return cp.E(op, k, cp.ErrorMsg(err), err)
	}
	return cp.E(op, cp.Internal, "", err)
}

// BankInput is a bank account as the member types it.
type BankInput struct {
	Nickname string
	Routing  string
	Number   string
}

// BankAccounts lists the member's linked bank accounts.
func (s *Service) BankAccounts(ctx context.Context, member identity.MemberID) ([]BankAccount, error) {
	const op = "payment.BankAccounts"
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return nil, err
	}
	bs, err := s.store.BankAccounts(ctx, p.AccountID)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return bs, nil
}

// LinkBankAccount validates and links a bank account. The number is sealed by the HSM
// and only its last 4 digits are kept in clear. Linking a number already linked
// returns that bank account (created false), so a double submission links once.
func (s *Service) LinkBankAccount(ctx context.Context, member identity.MemberID, in BankInput) (BankAccount, bool, error) {
	const op = "payment.LinkBankAccount"
	var fs []cp.FieldError
	routing, ok := ParseRoutingNumber(in.Routing)
	if !ok {
		fs = append(fs, cp.FieldError{Field: "routing_number", Msg: "payment.error.routing"})
	}
	number, ok := ParseAccountNumber(in.Number)
	if !ok {
		fs = append(fs, cp.FieldError{Field: "account_number", Msg: "payment.error.accountnumber"})
	}
	nick := strings.TrimSpace(in.Nickname)
	if utf8.RuneCountInString(nick) > MaxNicknameLen || !printable(nick) {
		fs = append(fs, cp.FieldError{Field: "nickname", Msg: "payment.error.nickname"})
	}
	if len(fs) > 0 {
		return BankAccount{}, false, cp.InvalidFields(op, fs...)
	}
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return BankAccount{}, false, err
	}
	existing, err := s.store.BankAccounts(ctx, p.AccountID)
	if err != nil {
		return BankAccount{}, false, cp.E(op, cp.Internal, "", err)
	}
	mac := s.hsm.MAC(MACPurpose, []byte(string(routing)+":"+number.Digits()))
	if len(existing) >= s.cfg.MaxBankAccounts && !linked(existing, routing, mac) {
		return BankAccount{}, false, cp.E(op, cp.Conflict, "payment.error.toomanybanks", nil)
	}
	sealed, err := s.hsm.SealSecret(SealPurpose, []byte(number.Digits()))
	if err != nil {
		return BankAccount{}, false, cp.E(op, cp.Internal, "", err)
	}
	b := BankAccount{AccountID: p.AccountID, MemberID: int64(member), Nickname: nick, Routing: routing,
		Last4: number.Last4(), Sealed: sealed, MAC: mac}
	created, err := s.store.LinkBankAccount(ctx, &b, s.now())
	if err != nil {
		return BankAccount{}, false, cp.E(op, cp.Internal, "", err)
	}
	return b, created, nil
}

func linked(bs []BankAccount, r RoutingNumber, mac []byte) bool {
	for _, b := range bs {
		if b.Routing == r && string(b.MAC) == string(mac) {
			return true
		}
	}
	return false
}

// RemoveBankAccount unlinks one of the member's bank accounts; refused (Conflict)
// while a scheduled payment or autopay uses it.
func (s *Service) RemoveBankAccount(ctx context.Context, member identity.MemberID, id int64) error {
	const op = "payment.RemoveBankAccount"
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return err
	}
	if err := s.store.RemoveBankAccount(ctx, p.AccountID, id, s.now()); err != nil {
		return scoped(op, err)
	}
	return nil
}

// Request is a payment as the member asks for it.
type Request struct {
	BankAccountID int64
	Amount        int64     // minor units of the account's currency
	On            time.Time // the date to pay; zero pays now
	// IdempotencyKey identifies the request: the API's Idempotency-Key header, the
	// web form's hidden token. The same key always answers with the same payment.
	IdempotencyKey string
}

func (r Request) canonical() string {
	on := "now"
	if !r.On.IsZero() {
		on = r.On.Format(time.DateOnly)
	}
	return "bank=" + strconv.FormatInt(r.BankAccountID, 10) + ";amount=" + strconv.FormatInt(r.Amount, 10) + ";on=" + on
}

// checkAmount applies the amount rules of the package comment.
func checkAmount(p Payer, amount int64) *cp.FieldError {
	owed := p.Balance + max(p.Pending, 0)
	switch {
	case amount <= 0:
		return &cp.FieldError{Field: "amount", Msg: "payment.error.amount"}
	case owed <= 0:
		return &cp.FieldError{Field: "amount", Msg: "payment.error.nothingdue"}
	case amount > owed:
		return &cp.FieldError{Field: "amount", Msg: "payment.error.overpay"}
	}
	return nil
}

// checkDate refuses a date in the past or past MaxDate.
func (s *Service) checkDate(on time.Time) *cp.FieldError {
	if on.IsZero() {
		return nil
	}
	on = civil(on)
	if on.Before(s.Today()) {
		return &cp.FieldError{Field: "date", Msg: "payment.error.past"}
	}
	if on.After(s.MaxDate()) {
		return &cp.FieldError{Field: "date", Msg: "payment.error.toofar"}
	}
	return nil
}

// ValidKey reports whether k can be an idempotency key.
func ValidKey(k string) bool {
	return k != "" && len(k) <= MaxKeyLen && printable(k) && strings.TrimSpace(k) == k
}

// Pay makes a payment now (On zero or today) or schedules it for a date. The same
// IdempotencyKey always answers with the same payment however often and however
// concurrently it is sent; the same key with a different request is Conflict
// ("payment.error.keyreused"). A payment for today executes before Pay returns.
func (s *Service) Pay(ctx context.Context, member identity.MemberID, r Request) (Payment, error) {
	const op = "payment.Pay"
	if !ValidKey(r.IdempotencyKey) {
		return Payment{}, cp.InvalidFields(op, cp.FieldError{Field: "idempotency_key", Msg: "payment.error.key"})
	}
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return Payment{}, err
	}
	if !r.On.IsZero() {
		r.On = civil(r.On)
	}
	// A retry of a payment already made is answered before the rules are applied
	// again: the first request passed them, and the balance has moved since.
	var fs []cp.FieldError
	if f := checkAmount(p, r.Amount); f != nil {
		fs = append(fs, *f)
	}
	if f := s.checkDate(r.On); f != nil {
		fs = append(fs, *f)
	}
	if r.BankAccountID <= 0 {
		fs = append(fs, cp.FieldError{Field: "bank_account_id", Msg: "payment.error.bank"})
	}
	on := r.On
	if on.IsZero() {
		on = s.Today()
	}
	pay := Payment{AccountID: p.AccountID, MemberID: int64(member), BankAccountID: r.BankAccountID, Amount: r.Amount,
		Currency: p.Currency, On: on, Status: Scheduled, Kind: OneTime, IdempotencyKey: r.IdempotencyKey, Request: r.canonical()}
	if len(fs) > 0 {
		// Refused now; but if this key already made a payment, that is the answer.
		if prev, ok := s.existing(ctx, p.AccountID, r); ok {
			return s.answerRetry(op, prev, r)
		}
		return Payment{}, cp.InvalidFields(op, fs...)
	}
	created, err := s.create(ctx, op, &pay)
	if err != nil {
		return Payment{}, err
	}
	if !created {
		return s.answerRetry(op, pay, r)
	}
	if pay.On.After(s.Today()) {
		s.notice(ctx, pay, "payment.scheduled")
		return pay, nil
	}
	out, _, err := s.execute(ctx, pay.ID, time.Time{})
	return out, err
}

// existing finds the payment an idempotency key already made, if any.
func (s *Service) existing(ctx context.Context, accountID int64, r Request) (Payment, bool) {
	p, err := s.store.PaymentByKey(ctx, accountID, r.IdempotencyKey)
	return p, err == nil
}

func (s *Service) answerRetry(op string, prev Payment, r Request) (Payment, error) {
	if prev.Request != r.canonical() {
		return Payment{}, cp.E(op, cp.Conflict, "payment.error.keyreused", fmt.Errorf("key of payment %d reused", prev.ID))
	}
	return prev, nil
}

// create stores p with a fresh confirmation number, drawing again on the (unlikely)
// collision.
func (s *Service) create(ctx context.Context, op string, p *Payment) (bool, error) {
	p.CreatedAt, p.UpdatedAt = s.now(), s.now()
	for range 5 {
		c, err := s.confirmation()
		if err != nil {
			return false, cp.E(op, cp.Internal, "", err)
		}
		p.Confirmation = c
		created, err := s.store.CreatePayment(ctx, p)
		if cp.IsKind(err, cp.Conflict) && cp.ErrorMsg(err) == "payment.confirmation.taken" {
			continue
		}
		if err != nil {
			if cp.IsKind(err, cp.NotFound) {
				return false, cp.InvalidFields(op, cp.FieldError{Field: "bank_account_id", Msg: "payment.error.bank"})
			}
			return false, cp.E(op, cp.Internal, "", err)
		}
		return created, nil
	}
	return false, cp.E(op, cp.Internal, "", fmt.Errorf("no free confirmation number"))
}

// confirmAlphabet is Crockford's base32: no I, L, O or U, so a number read out on the
// phone cannot be misheard as another.
const confirmAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// confirmation draws 60 random bits as 12 characters in groups of four.
func (s *Service) confirmation() (string, error) {
	var b [12]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", err
	}
	var out strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out.WriteByte('-')
		}
		out.WriteByte(confirmAlphabet[c&31])
	}
	return out.String(), nil
}

// Payments lists the member's payments, newest first.
func (s *Service) Payments(ctx context.Context, member identity.MemberID) ([]Payment, error) {
	const op = "payment.Payments"
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return nil, err
	}
	ps, err := s.store.Payments(ctx, p.AccountID, ListLimit)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return ps, nil
}

// Payment returns one of the member's payments; NotFound for any other id.
func (s *Service) Payment(ctx context.Context, member identity.MemberID, id int64) (Payment, error) {
	const op = "payment.Payment"
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return Payment{}, err
	}
	pay, err := s.store.Payment(ctx, p.AccountID, id)
	if err != nil {
		return Payment{}, scoped(op, err)
	}
	return pay, nil
}

// Changes is a new amount, date or bank account for a scheduled payment.
type Changes struct {
	BankAccountID int64
	Amount        int64
	On            time.Time // must be a date after today: a change never pays at once
}

// ChangePayment changes a payment that has not started. Sending the same changes
// again changes nothing and succeeds.
func (s *Service) ChangePayment(ctx context.Context, member identity.MemberID, id int64, c Changes) (Payment, error) {
	const op = "payment.ChangePayment"
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return Payment{}, err
	}
	cur, err := s.store.Payment(ctx, p.AccountID, id)
	if err != nil {
		return Payment{}, scoped(op, err)
	}
	if _, ok := Next(cur.Status, Change); !ok {
		return Payment{}, cp.E(op, cp.Conflict, "payment.error.started", nil)
	}
	var fs []cp.FieldError
	if c.Amount != cur.Amount {
		if f := checkAmount(p, c.Amount); f != nil {
			fs = append(fs, *f)
		}
	}
	if c.On.IsZero() {
		fs = append(fs, cp.FieldError{Field: "date", Msg: "payment.error.date"})
	} else if c.On = civil(c.On); !c.On.After(s.Today()) {
		fs = append(fs, cp.FieldError{Field: "date", Msg: "payment.error.future"})
	} else if f := s.checkDate(c.On); f != nil {
		fs = append(fs, *f)
	}
	if c.BankAccountID <= 0 {
		fs = append(fs, cp.FieldError{Field: "bank_account_id", Msg: "payment.error.bank"})
	}
	if len(fs) > 0 {
		return Payment{}, cp.InvalidFields(op, fs...)
	}
	out, err := s.store.ChangePayment(ctx, p.AccountID, id, c.BankAccountID, c.Amount, c.On, s.now())
	if err != nil {
		if cp.IsKind(err, cp.NotFound) {
			if _, e2 := s.store.Payment(ctx, p.AccountID, id); e2 == nil {
				return Payment{}, cp.InvalidFields(op, cp.FieldError{Field: "bank_account_id", Msg: "payment.error.bank"})
			}
		}
		return Payment{}, scoped(op, err)
	}
	return out, nil
}

// CancelPayment cancels a payment that has not started. Cancelling a cancelled payment
// succeeds and changes nothing; one that started is Conflict ("payment.error.started").
func (s *Service) CancelPayment(ctx context.Context, member identity.MemberID, id int64) (Payment, error) {
	const op = "payment.CancelPayment"
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return Payment{}, err
	}
	cur, err := s.store.Payment(ctx, p.AccountID, id)
	if err != nil {
		return Payment{}, scoped(op, err)
	}
	if cur.Status == Cancelled {
		return cur, nil
	}
	to, ok := Next(cur.Status, Cancel)
	if !ok {
		return Payment{}, cp.E(op, cp.Conflict, "payment.error.started", nil)
	}
	out, err := s.store.MovePayment(ctx, id, cur.Status, to, time.Time{}, s.now(), 0)
	if err != nil {
		return Payment{}, scoped(op, err)
	}
	return out, nil
}

// AutopayInput is the member's autopay choice.
type AutopayInput struct {
	BankAccountID int64
	Rule          Rule
	Amount        int64 // FixedAmount only
}

// Autopay returns the member's autopay setting; NotFound when there is none.
func (s *Service) Autopay(ctx context.Context, member identity.MemberID) (Autopay, error) {
	const op = "payment.Autopay"
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return Autopay{}, err
	}
	a, err := s.store.Autopay(ctx, p.AccountID)
	if err != nil {
		return Autopay{}, scoped(op, err)
	}
	return a, nil
}

// SetAutopay turns autopay on or changes it. Setting the same again changes nothing.
func (s *Service) SetAutopay(ctx context.Context, member identity.MemberID, in AutopayInput) (Autopay, error) {
	const op = "payment.SetAutopay"
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return Autopay{}, err
	}
	var fs []cp.FieldError
	if !in.Rule.Valid() {
		fs = append(fs, cp.FieldError{Field: "rule", Msg: "payment.error.rule"})
	}
	if in.Rule == FixedAmount && in.Amount <= 0 {
		fs = append(fs, cp.FieldError{Field: "amount", Msg: "payment.error.amount"})
	}
	if in.Rule != FixedAmount {
		in.Amount = 0
	}
	if in.BankAccountID <= 0 {
		fs = append(fs, cp.FieldError{Field: "bank_account_id", Msg: "payment.error.bank"})
	}
	if len(fs) > 0 {
		return Autopay{}, cp.InvalidFields(op, fs...)
	}
	a := Autopay{AccountID: p.AccountID, MemberID: int64(member), BankAccountID: in.BankAccountID, Rule: in.Rule, Amount: in.Amount, UpdatedAt: s.now()}
	if err := s.store.SetAutopay(ctx, a); err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return Autopay{}, cp.InvalidFields(op, cp.FieldError{Field: "bank_account_id", Msg: "payment.error.bank"})
		}
		return Autopay{}, cp.E(op, cp.Internal, "", err)
	}
	out, err := s.store.Autopay(ctx, p.AccountID)
	if err != nil {
		return Autopay{}, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// StopAutopay turns autopay off; NotFound if it was not on.
func (s *Service) StopAutopay(ctx context.Context, member identity.MemberID) error {
	const op = "payment.StopAutopay"
	p, err := s.payer(ctx, op, member)
	if err != nil {
		return err
	}
	if err := s.store.StopAutopay(ctx, p.AccountID); err != nil {
		return scoped(op, err)
	}
	return nil
}

// AutopayAmount is what an autopay pays against a statement (see the package
// comment): the rule's amount less what was paid since the statement closed, capped
// at the balance owed now. Zero or less means nothing to pay.
func AutopayAmount(d AutopayDue) int64 {
	var want int64
	switch d.Autopay.Rule {
	case MinimumDue:
		want = d.Statement.MinimumDue
	case StatementBalance:
		want = d.Statement.ClosingBalance
	case FixedAmount:
		want = min(d.Autopay.Amount, d.Statement.ClosingBalance)
	}
	want -= d.PaidSince
	return min(want, d.Owed)
}

// RunReport says what a run of the payment job did.
type RunReport struct {
	AutopaysCreated int
	Posted          int
	Failed          int
	Skipped         int // claimed by another instance, or cancelled first
	Errors          int // left for the next run (logged)
}

// RunDue is the payment job for a date: it turns the autopays due on that date into
// payments, then executes every scheduled payment dated on or before it (and takes up
// any left processing by a crash). Any number of instances may run it at once, and
// running it again for the same date does nothing new: an autopay's payment has the
// key "autopay:<due date>" on its account, and each execution starts by a conditional
// move to processing that only one caller wins.
func (s *Service) RunDue(ctx context.Context, on time.Time) (RunReport, error) {
	const op = "payment.RunDue"
	on = civil(on)
	var rep RunReport
	dues, err := s.store.AutopaysDue(ctx, on)
	if err != nil {
		return rep, cp.E(op, cp.Internal, "", err)
	}
	for _, d := range dues {
		amount := AutopayAmount(d)
		if amount <= 0 {
			continue
		}
		a := d.Autopay
		pay := Payment{AccountID: a.AccountID, MemberID: a.MemberID, BankAccountID: a.BankAccountID, Amount: amount,
			Currency: d.Statement.Currency, On: on, Status: Scheduled, Kind: Auto,
			IdempotencyKey: "autopay:" + d.Statement.DueDate.Format(time.DateOnly),
			Request:        "autopay;due=" + d.Statement.DueDate.Format(time.DateOnly)}
		created, err := s.create(ctx, op, &pay)
		if err != nil {
			s.log.ErrorContext(ctx, "autopay", "account", a.AccountID, "err", err)
			continue
		}
		if created {
			rep.AutopaysCreated++
		}
	}
	ids, err := s.store.DuePayments(ctx, on, s.now().Add(-s.cfg.Stale))
	if err != nil {
		return rep, cp.E(op, cp.Internal, "", err)
	}
	// One payment that cannot execute now (the database hiccuped) must not hold up the
	// others: it is logged and left for the next run.
	var first error
	for _, id := range ids {
		p, done, err := s.execute(ctx, id, s.now().Add(-s.cfg.Stale))
		switch {
		case cp.IsKind(err, cp.Conflict) || (err == nil && !done):
			rep.Skipped++
		case err != nil:
			s.log.ErrorContext(ctx, "execute payment", "payment", id, "err", err)
			rep.Errors++
			if first == nil {
				first = err
			}
		case p.Status == Posted:
			rep.Posted++
		case p.Status == Failed:
			rep.Failed++
		default:
			rep.Skipped++
		}
	}
	return rep, first
}

// execute claims a payment (scheduled to processing, or a stale processing one) and
// posts it; done says whether this call did so. A claim lost to another executor or a
// cancel is Conflict, except for a pay-now request (staleBefore zero), which answers
// with the payment as the winner left it.
func (s *Service) execute(ctx context.Context, id int64, staleBefore time.Time) (Payment, bool, error) {
	const op = "payment.execute"
	cur, err := s.store.PaymentByID(ctx, id)
	if err != nil {
		return Payment{}, false, scoped(op, err)
	}
	var p Payment
	to, ok := Next(cur.Status, Execute)
	switch {
	case !ok:
		return cur, false, nil // ended already
	case cur.Status == Processing && staleBefore.IsZero():
		return cur, false, nil // someone else is at it
	case cur.Status == Processing:
		p, err = s.store.MovePayment(ctx, id, Processing, to, staleBefore, s.now(), 0)
	default:
		p, err = s.store.MovePayment(ctx, id, cur.Status, to, time.Time{}, s.now(), 0)
	}
	if cp.IsKind(err, cp.Conflict) && staleBefore.IsZero() {
		if now, e2 := s.store.PaymentByID(ctx, id); e2 == nil {
			return now, false, nil
		}
	}
	if err != nil {
		return Payment{}, false, scoped(op, err)
	}
	tx, err := s.ledger.Post(ctx, p.Entry())
	if err != nil {
		if k := cp.ErrorKind(err); k == cp.Invalid || k == cp.NotFound || k == cp.Conflict {
			s.log.ErrorContext(ctx, "payment refused by the ledger", "payment", p.ID, "err", err)
			out, e2 := s.store.MovePayment(ctx, id, Processing, Failed, time.Time{}, s.now(), 0)
			if e2 != nil {
				return Payment{}, false, scoped(op, e2)
			}
			return out, true, nil
		}
		// Left processing: the next run after Stale takes it up again.
		return Payment{}, false, cp.E(op, cp.Internal, "", err)
	}
	out, err := s.store.MovePayment(ctx, id, Processing, Posted, time.Time{}, s.now(), tx.ID)
	if err != nil {
		return Payment{}, false, scoped(op, err)
	}
	s.notice(ctx, out, "payment.received")
	if s.received != nil {
		s.received(ctx, identity.MemberID(out.MemberID), out.Amount, out.Currency)
	}
	return out, true, nil
}

// Entry is the ledger posting a payment makes: a credit of its amount under the key
// "payment:<id>". Every field is a function of the stored payment, so an executor that
// takes up a payment left processing by a crash posts exactly the same entry, which
// the ledger then answers with the first one instead of posting twice. It is dated
// when the member asked for a payment made today, and at the start of its date for a
// scheduled one: the date the member chose is when it counts.
func (p Payment) Entry() account.Entry {
	at := p.CreatedAt
	if p.On.After(at) {
		at = p.On
	}
	return account.Entry{
		AccountID: p.AccountID, Kind: account.Payment, Amount: -p.Amount, Currency: p.Currency,
		Description: "Payment received " + p.Confirmation, Status: account.Posted, PostedAt: at,
		TextID: "ledger.payment.received", TextArgs: map[string]string{"confirmation": p.Confirmation},
		IdempotencyKey: "payment:" + strconv.FormatInt(p.ID, 10),
	}
}

// notice emails the member who made the payment, in their language. A notice that
// cannot be sent is logged; it never undoes the payment.
func (s *Service) notice(ctx context.Context, p Payment, kind string) {
	if s.notifier == nil {
		return
	}
	who, err := s.store.Payer(ctx, identity.MemberID(p.MemberID))
	if err != nil || who.Email == "" {
		if err != nil {
			s.log.ErrorContext(ctx, "payment notice", "kind", kind, "err", err)
		}
		return
	}
	loc := locale.Negotiate(who.Locale, "")
	vars := []string{"amount", loc.Money(p.Amount, p.Currency), "date", loc.Date(p.On), "confirmation", p.Confirmation,
		"bank", Mask(p.BankLast4), "phone", loc.ContactPhone()}
	msg := notify.Message{
		MemberID: p.MemberID, Channel: notify.Email, To: who.Email, Kind: kind,
		Subject: loc.T("notice."+kind+".subject", vars...), Body: loc.T("notice."+kind+".body", vars...),
		CreatedAt: s.now(),
	}
	if err := s.notifier.Notify(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "payment notice", "message", msg, "err", err)
	}
}

// printable refuses invalid UTF-8 and control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
