package disputes

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
)

// Security-history events of disputes. The detail names the dispute by number only.
const (
	EventOpened   identity.EventKind = "dispute.opened"
	EventReported identity.EventKind = "dispute.suspicious"
)

// Contacts is how the service reaches the member for its notices.
type Contacts interface {
	Member(ctx context.Context, id identity.MemberID) (identity.Member, error)
}

// Service opens and resolves disputes.
type Service struct {
	store    Store
	ledger   account.Ledger
	events   identity.EventStore
	members  Contacts
	notifier notify.Notifier
	now      func() time.Time
	log      *slog.Logger
}

// New returns a Service. members and notifier may be nil (no notices).
func New(store Store, ledger account.Ledger, events identity.EventStore, members Contacts, n notify.Notifier, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, ledger: ledger, events: events, members: members, notifier: n, now: now, log: log}
}

// Transaction returns a transaction the member may see, with its disputes (newest
// first). Returns NotFound for any other id.
func (s *Service) Transaction(ctx context.Context, member identity.MemberID, postingID int64) (account.Transaction, []Dispute, error) {
	const op = "disputes.Transaction"
	tx, err := s.store.MemberTransaction(ctx, member, postingID)
	if err != nil {
		return account.Transaction{}, nil, cp.E(op, cp.ErrorKind(err), "", err)
	}
	ds, err := s.store.PostingDisputes(ctx, member, postingID)
	if err != nil {
		return account.Transaction{}, nil, cp.E(op, cp.Internal, "", err)
	}
	return tx, ds, nil
}

// Disputable says whether the transaction can be disputed now, and if not, the
// message that says why (a locale ID).
func Disputable(tx account.Transaction, now time.Time) (bool, string) {
	switch {
	case tx.Kind != account.Purchase:
		return false, "dispute.error.kind"
	case tx.Status != account.Posted:
		return false, "dispute.error.pending"
	case now.Sub(tx.PostedAt) > MaxAge:
		return false, "dispute.error.toolate"
	}
	return true, ""
}

// Open records the member's dispute of a transaction and posts the provisional
// credit (see the package comment for the rule). Bad input is Invalid per field; a
// transaction that cannot be disputed is Invalid with the reason; one that already
// has an unresolved dispute is Conflict "dispute.exists" (so a double submission
// opens one dispute and posts one credit); another member's transaction is NotFound.
func (s *Service) Open(ctx context.Context, member identity.MemberID, postingID int64, in Request, src identity.Source) (Dispute, error) {
	const op = "disputes.Open"
	tx, err := s.store.MemberTransaction(ctx, member, postingID)
	if err != nil {
		return Dispute{}, cp.E(op, cp.ErrorKind(err), "", err)
	}
	reason, detail, fs := in.validate()
	if len(fs) > 0 {
		return Dispute{}, cp.InvalidFields(op, fs...)
	}
	now := s.now()
	if ok, msg := Disputable(tx, now); !ok {
		return Dispute{}, cp.E(op, cp.Invalid, msg, nil)
	}
	d := Dispute{AccountID: tx.AccountID, PostingID: tx.ID, MemberID: member, Reason: reason, Detail: detail,
		Status: Open, Amount: tx.Amount, Currency: tx.Currency, CreatedAt: now, UpdatedAt: now, Transaction: tx}
	if err := s.store.CreateDispute(ctx, &d); err != nil {
		if cp.IsKind(err, cp.Conflict) {
			// A retry after a failure between the dispute and its credit finishes the
			// credit, then answers as a duplicate does.
			s.repairCredit(ctx, member, postingID)
			return Dispute{}, cp.E(op, cp.Conflict, "dispute.exists", err)
		}
		return Dispute{}, cp.E(op, cp.Internal, "", err)
	}
	if err := s.postCredit(ctx, &d); err != nil {
		return Dispute{}, cp.E(op, cp.Internal, "", err)
	}
	kind := EventOpened
	if reason.Suspicious() {
		kind = EventReported
	}
	s.record(ctx, member, kind, d.ID, src)
	s.notice(ctx, member, "dispute.opened", d)
	return d, nil
}

// postCredit posts the provisional credit of d (idempotent by its key) and records it.
func (s *Service) postCredit(ctx context.Context, d *Dispute) error {
	t, err := s.ledger.Post(ctx, account.Entry{
		AccountID: d.AccountID, CardID: d.Transaction.CardID, Kind: account.Credit, Amount: -d.Amount, Currency: d.Currency,
		Description: textLimit("Provisional credit, dispute " + strconv.FormatInt(d.ID, 10) + ": " + label(d.Transaction)),
		TextID:      "ledger.dispute.credit", TextArgs: disputeArgs(*d),
		// Posted at the dispute's own time, so a repeat (see repairCredit) is the same
		// entry and the ledger's idempotency answers it with the first.
		Merchant: d.Transaction.Merchant, PostedAt: d.CreatedAt, IdempotencyKey: CreditKey(d.ID),
	})
	if err != nil {
		return err
	}
	d.CreditPostingID = t.ID
	return s.store.SetDisputeCredit(ctx, d.ID, t.ID, s.now())
}

// repairCredit posts a missing provisional credit of the posting's unresolved dispute.
func (s *Service) repairCredit(ctx context.Context, member identity.MemberID, postingID int64) {
	ds, err := s.store.PostingDisputes(ctx, member, postingID)
	if err != nil {
		return
	}
	for _, d := range ds {
		if !d.Status.Resolved() && d.CreditPostingID == 0 {
			if err := s.postCredit(ctx, &d); err != nil {
				s.log.ErrorContext(ctx, "repair dispute credit", "dispute", d.ID, "err", err)
			}
		}
	}
}

// CreditKey and ReversalKey are the ledger idempotency keys of a dispute's postings.
func CreditKey(id int64) string   { return "dispute:" + strconv.FormatInt(id, 10) + ":credit" }
func ReversalKey(id int64) string { return "dispute:" + strconv.FormatInt(id, 10) + ":reversal" }

// Dispute returns one of the member's disputes; NotFound for any other id.
func (s *Service) Dispute(ctx context.Context, member identity.MemberID, id int64) (Dispute, error) {
	d, err := s.store.MemberDispute(ctx, member, id)
	if err != nil {
		return Dispute{}, cp.E("disputes.Dispute", cp.ErrorKind(err), "", err)
	}
	return d, nil
}

// List returns the member's disputes, newest first.
func (s *Service) List(ctx context.Context, member identity.MemberID) ([]Dispute, error) {
	ds, err := s.store.MemberDisputes(ctx, member)
	if err != nil {
		return nil, cp.E("disputes.List", cp.Internal, "", err)
	}
	return ds, nil
}

// Resolve applies the dispute team's action (Next). Resolved for the merchant, the
// provisional credit is reversed by a debit (see the package comment). The status is
// moved first, with an optimistic check, so two resolutions racing cannot both win;
// the reversal is then posted under its own idempotency key, and a Resolve repeated
// after a failure in between posts the missing reversal. A resolved dispute refuses
// other actions with Conflict "dispute.error.resolved".
func (s *Service) Resolve(ctx context.Context, id int64, a Action) (Dispute, error) {
	const op = "disputes.Resolve"
	d, err := s.store.Dispute(ctx, id)
	if err != nil {
		return Dispute{}, cp.E(op, cp.ErrorKind(err), "", err)
	}
	if d.Status == ResolvedMerchant && a == ResolveMerchant && d.ReversalPostingID == 0 {
		return s.reverse(ctx, op, d)
	}
	to, changed, err := Next(d.Status, a)
	switch {
	case err == ErrResolved:
		return Dispute{}, cp.E(op, cp.Conflict, "dispute.error.resolved", err)
	case err != nil:
		return Dispute{}, cp.E(op, cp.Invalid, "", err)
	case !changed:
		return d, nil
	}
	now := s.now()
	if err := s.store.SetDisputeStatus(ctx, d.ID, d.Status, to, 0, now); err != nil {
		if cp.IsKind(err, cp.Conflict) {
			return Dispute{}, cp.E(op, cp.Conflict, "dispute.error.busy", err)
		}
		return Dispute{}, cp.E(op, cp.Internal, "", err)
	}
	d.Status, d.UpdatedAt = to, now
	if to == ResolvedMerchant {
		return s.reverse(ctx, op, d)
	}
	if to.Resolved() {
		s.notice(ctx, d.MemberID, "dispute."+string(to), d)
	}
	return d, nil
}

// reverse posts the reversal of a dispute resolved for the merchant and records it.
func (s *Service) reverse(ctx context.Context, op string, d Dispute) (Dispute, error) {
	if d.CreditPostingID == 0 {
		// No credit was ever posted, so there is nothing to take back.
		return d, nil
	}
	t, err := s.ledger.Post(ctx, account.Entry{
		AccountID: d.AccountID, CardID: d.Transaction.CardID, Kind: account.Adjustment, Amount: d.Amount, Currency: d.Currency,
		Description: textLimit("Dispute " + strconv.FormatInt(d.ID, 10) + " resolved, charge reinstated: " + label(d.Transaction)),
		TextID:      "ledger.dispute.reinstated", TextArgs: disputeArgs(d),
		Merchant: d.Transaction.Merchant, City: d.Transaction.City, Country: d.Transaction.Country,
		PostedAt: d.UpdatedAt, IdempotencyKey: ReversalKey(d.ID),
	})
	if err != nil {
		return Dispute{}, cp.E(op, cp.Internal, "", err)
	}
	// The reversal is recorded without moving updated_at, which dates the reversal.
	if err := s.store.SetDisputeStatus(ctx, d.ID, ResolvedMerchant, ResolvedMerchant, t.ID, d.UpdatedAt); err != nil {
		return Dispute{}, cp.E(op, cp.Internal, "", err)
	}
	d.ReversalPostingID = t.ID
	s.notice(ctx, d.MemberID, "dispute."+string(ResolvedMerchant), d)
	return d, nil
}

func label(t account.Transaction) string {
	if t.Merchant != "" {
		return t.Merchant
	}
	return t.Description
}

// disputeArgs are the arguments of a dispute's ledger texts. The disputed posting's
// label is English when it is itself a text the system wrote, which is rare enough
// (a dispute is about a merchant's charge) to leave so.
func disputeArgs(d Dispute) map[string]string {
	return map[string]string{"dispute": strconv.FormatInt(d.ID, 10), "merchant": textLimit(label(d.Transaction))}
}

func textLimit(s string) string {
	r := []rune(strings.ToValidUTF8(s, ""))
	if len(r) > account.MaxTextLen {
		r = r[:account.MaxTextLen]
	}
	return string(r)
}

func (s *Service) record(ctx context.Context, member identity.MemberID, kind identity.EventKind, id int64, src identity.Source) {
	if s.events == nil {
		return
	}
	ua := src.UserAgent
	if len(ua) > 300 {
		ua = strings.ToValidUTF8(ua[:300], "")
	}
	e := &identity.Event{MemberID: member, Kind: kind, At: s.now(), IP: src.IP, UserAgent: ua, Detail: "dispute " + strconv.FormatInt(id, 10)}
	if err := s.events.RecordEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "record dispute event", "err", err)
	}
}

// notice emails the member about their dispute; failures are logged only.
func (s *Service) notice(ctx context.Context, member identity.MemberID, kind string, d Dispute) {
	if s.notifier == nil || s.members == nil {
		return
	}
	m, err := s.members.Member(ctx, member)
	if err != nil || m.Email == "" {
		return
	}
	loc := locale.Negotiate(m.Locale, "")
	vars := []string{"id", strconv.FormatInt(d.ID, 10), "amount", loc.Money(d.Amount, d.Currency),
		"merchant", label(d.Transaction), "phone", loc.ContactPhone()}
	msg := notify.Message{MemberID: int64(member), Channel: notify.Email, To: m.Email, Kind: kind,
		Subject: loc.T("notice."+kind+".subject", vars...), Body: loc.T("notice."+kind+".body", vars...), CreatedAt: s.now()}
	if err := s.notifier.Notify(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "dispute notice", "message", msg, "err", err)
	}
}
