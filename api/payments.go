package api

import (
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/payment"
)

// --- Payments (SPEC AC4) ---
//
// Payment and bank-account ids in paths are the member's own: any other id is 404
// exactly like one that does not exist. Bank account numbers travel only in the link
// request and are never answered back; responses carry the last 4 digits.

type paymentJSON struct {
	PaymentID     int64   `json:"payment_id"`
	Confirmation  string  `json:"confirmation"`
	Amount        int64   `json:"amount"`
	Currency      string  `json:"currency"`
	Date          string  `json:"date"`
	Status        string  `json:"status"`
	Kind          string  `json:"kind"`
	BankAccountID int64   `json:"bank_account_id"`
	BankLast4     string  `json:"bank_account_last4"`
	CreatedAt     string  `json:"created_at"`
	PostedAt      *string `json:"posted_at"`
}

func newPaymentJSON(p payment.Payment) paymentJSON {
	j := paymentJSON{PaymentID: p.ID, Confirmation: p.Confirmation, Amount: p.Amount, Currency: p.Currency,
		Date: p.On.Format(time.DateOnly), Status: string(p.Status), Kind: string(p.Kind), BankAccountID: p.BankAccountID,
		BankLast4: p.BankLast4, CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339)}
	if !p.PostedAt.IsZero() {
		at := p.PostedAt.UTC().Format(time.RFC3339)
		j.PostedAt = &at
	}
	return j
}

type paymentListJSON struct {
	Payments []paymentJSON `json:"payments"`
}

type bankAccountJSON struct {
	BankAccountID int64  `json:"bank_account_id"`
	Nickname      string `json:"nickname"`
	RoutingNumber string `json:"routing_number"`
	Last4         string `json:"last4"`
}

func newBankAccountJSON(b payment.BankAccount) bankAccountJSON {
	return bankAccountJSON{BankAccountID: b.ID, Nickname: b.Nickname, RoutingNumber: string(b.Routing), Last4: b.Last4}
}

type bankAccountListJSON struct {
	BankAccounts []bankAccountJSON `json:"bank_accounts"`
}

type autopayJSON struct {
	Rule          string `json:"rule"`
	Amount        int64  `json:"amount"`
	BankAccountID int64  `json:"bank_account_id"`
	BankLast4     string `json:"bank_account_last4"`
}

// pathID reads {id}; anything but a positive integer is an id no member has.
func pathID(c *call, op string) (int64, error) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, cp.E(op, cp.NotFound, "", nil)
	}
	return id, nil
}

// parseDate reads an optional civil date; "" is the zero time.
func parseDate(op, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, cp.InvalidFields(op, cp.FieldError{Field: "date", Msg: "error.date"})
	}
	return d, nil
}

// listPayments is GET /api/v1/payments.
func (s *server) listPayments(c *call) (int, any, error) {
	ps, err := s.payments.Payments(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	out := paymentListJSON{Payments: []paymentJSON{}}
	for _, p := range ps {
		out.Payments = append(out.Payments, newPaymentJSON(p))
	}
	return http.StatusOK, out, nil
}

type paymentRequest struct {
	BankAccountID int64  `json:"bank_account_id"`
	Amount        int64  `json:"amount"`
	Date          string `json:"date"`
}

// makePayment is POST /api/v1/payments: pay now (no date, or today) or schedule. The
// Idempotency-Key header is required: the same key answers with the same payment.
func (s *server) makePayment(c *call) (int, any, error) {
	const op = "api.makePayment"
	var in paymentRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	on, err := parseDate(op, in.Date)
	if err != nil {
		return 0, nil, err
	}
	key := c.r.Header.Get("Idempotency-Key")
	if !payment.ValidKey(key) {
		return 0, nil, cp.InvalidFields(op, cp.FieldError{Field: "Idempotency-Key", Msg: "payment.error.key"})
	}
	p, err := s.payments.Pay(c.r.Context(), c.sess.MemberID, payment.Request{BankAccountID: in.BankAccountID, Amount: in.Amount,
		On: on, IdempotencyKey: key})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, newPaymentJSON(p), nil
}

// getPayment is GET /api/v1/payments/{id}.
func (s *server) getPayment(c *call) (int, any, error) {
	id, err := pathID(c, "api.getPayment")
	if err != nil {
		return 0, nil, err
	}
	p, err := s.payments.Payment(c.r.Context(), c.sess.MemberID, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newPaymentJSON(p), nil
}

type paymentChangeRequest struct {
	BankAccountID int64  `json:"bank_account_id"`
	Amount        int64  `json:"amount"`
	Date          string `json:"date"`
}

// changePayment is POST /api/v1/payments/{id}/change; sending the same changes again
// succeeds and changes nothing.
func (s *server) changePayment(c *call) (int, any, error) {
	const op = "api.changePayment"
	id, err := pathID(c, op)
	if err != nil {
		return 0, nil, err
	}
	var in paymentChangeRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	on, err := parseDate(op, in.Date)
	if err != nil {
		return 0, nil, err
	}
	p, err := s.payments.ChangePayment(c.r.Context(), c.sess.MemberID, id, payment.Changes{BankAccountID: in.BankAccountID, Amount: in.Amount, On: on})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newPaymentJSON(p), nil
}

// cancelPayment is POST /api/v1/payments/{id}/cancel; idempotent.
func (s *server) cancelPayment(c *call) (int, any, error) {
	id, err := pathID(c, "api.cancelPayment")
	if err != nil {
		return 0, nil, err
	}
	p, err := s.payments.CancelPayment(c.r.Context(), c.sess.MemberID, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newPaymentJSON(p), nil
}

// bankAccounts is GET /api/v1/bank-accounts.
func (s *server) bankAccounts(c *call) (int, any, error) {
	bs, err := s.payments.BankAccounts(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	out := bankAccountListJSON{BankAccounts: []bankAccountJSON{}}
	for _, b := range bs {
		out.BankAccounts = append(out.BankAccounts, newBankAccountJSON(b))
	}
	return http.StatusOK, out, nil
}

type bankAccountRequest struct {
	Nickname      string `json:"nickname"`
	RoutingNumber string `json:"routing_number"`
	AccountNumber string `json:"account_number"`
}

// linkBankAccount is POST /api/v1/bank-accounts: 201 for a new link, 200 with the
// existing one when the number is linked already.
func (s *server) linkBankAccount(c *call) (int, any, error) {
	var in bankAccountRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	b, created, err := s.payments.LinkBankAccount(c.r.Context(), c.sess.MemberID, payment.BankInput{
		Nickname: in.Nickname, Routing: in.RoutingNumber, Number: in.AccountNumber})
	if err != nil {
		return 0, nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return status, newBankAccountJSON(b), nil
}

// removeBankAccount is DELETE /api/v1/bank-accounts/{id}.
func (s *server) removeBankAccount(c *call) (int, any, error) {
	id, err := pathID(c, "api.removeBankAccount")
	if err != nil {
		return 0, nil, err
	}
	if err := s.payments.RemoveBankAccount(c.r.Context(), c.sess.MemberID, id); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func newAutopayJSON(a payment.Autopay) autopayJSON {
	return autopayJSON{Rule: string(a.Rule), Amount: a.Amount, BankAccountID: a.BankAccountID, BankLast4: a.BankLast4}
}

// getAutopay is GET /api/v1/autopay; 404 when autopay is off.
func (s *server) getAutopay(c *call) (int, any, error) {
	a, err := s.payments.Autopay(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newAutopayJSON(a), nil
}

type autopayRequest struct {
	Rule          string `json:"rule"`
	Amount        int64  `json:"amount"`
	BankAccountID int64  `json:"bank_account_id"`
}

// setAutopay is PUT /api/v1/autopay: turns autopay on or replaces the setting.
func (s *server) setAutopay(c *call) (int, any, error) {
	var in autopayRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	a, err := s.payments.SetAutopay(c.r.Context(), c.sess.MemberID, payment.AutopayInput{
		BankAccountID: in.BankAccountID, Rule: payment.Rule(in.Rule), Amount: in.Amount})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newAutopayJSON(a), nil
}

// stopAutopay is DELETE /api/v1/autopay; 404 when it was off.
func (s *server) stopAutopay(c *call) (int, any, error) {
	if err := s.payments.StopAutopay(c.r.Context(), c.sess.MemberID); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
