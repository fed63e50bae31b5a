package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/issuer"
)

// HasIssuerData reports whether any product is stored.
func (s *Store) HasIssuerData(ctx context.Context) (bool, error) {
	var ok bool
	if err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM products)`).Scan(&ok); err != nil {
		return false, cp.E("sqlstore.HasIssuerData", cp.Internal, "", err)
	}
	return ok, nil
}

// LoadIssuer writes the dataset in one transaction, keeping its IDs. Returns Conflict
// if products are already stored or any row collides with a stored one; then nothing
// is written.
func (s *Store) LoadIssuer(ctx context.Context, d issuer.Dataset) error {
	const op = "sqlstore.LoadIssuer"
	productIDs := make(map[string]int64, len(d.Products))
	for _, p := range d.Products {
		productIDs[p.Code] = p.ID
	}
	for _, a := range d.Accounts {
		if _, ok := productIDs[a.ProductCode]; !ok {
			return cp.E(op, cp.Invalid, "", fmt.Errorf("account %d: product %q is not in the dataset", a.ID, a.ProductCode))
		}
	}
	addressed := holdersWithAddress(d)
	return s.inTx(ctx, op, func(tx *poolTx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM products)`).Scan(&exists); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if exists {
			return cp.E(op, cp.Conflict, "", errors.New("issuer data is already loaded"))
		}
		steps := []struct {
			table string
			cols  []string
			n     int
			row   func(i int) []any
		}{
			{"products", []string{"id", "code", "name", "pan_length", "currency"}, len(d.Products), func(i int) []any {
				p := d.Products[i]
				return []any{p.ID, p.Code, p.Name, p.PANLength, p.Currency}
			}},
			{"accounts", []string{"id", "product_id", "currency", "credit_limit", "payment_due", "minimum_due", "opened_at", "cycle_day"}, len(d.Accounts), func(i int) []any {
				a := d.Accounts[i]
				return []any{a.ID, productIDs[a.ProductCode], a.Currency, a.CreditLimit, civilDate(a.PaymentDue), a.MinimumDue, micros(a.OpenedAt), accountCycleDay(a)}
			}},
			{"cardholders", []string{"id", "account_id", "basic", "name", "birth_date", "national_id_mac", "email", "phone"}, len(d.CardHolders), func(i int) []any {
				h := d.CardHolders[i]
				return []any{h.ID, h.AccountID, h.Basic, h.Name, civilDate(h.BirthDate), nonNilBytes(h.NationalIDMAC), h.Email, h.Phone}
			}},
			// Billing addresses (sqlstore/details.go): only the holders that have one.
			{"billing_addresses", addressCols, len(addressed), func(i int) []any { return addressRow(addressed[i]) }},
			{"cards", []string{"id", "account_id", "cardholder_id", "pan_sealed", "pan_key_id", "pan_fingerprint", "last_digits", "exp_month", "exp_year", "state", "issued_at"}, len(d.Cards), func(i int) []any {
				c := d.Cards[i]
				return []any{c.ID, c.AccountID, c.CardHolderID, nonNilBytes(c.Sealed.Blob), c.Sealed.KeyID, nonNilBytes(c.Fingerprint), c.Last, c.ExpMonth, c.ExpYear, c.State, micros(c.IssuedAt)}
			}},
			{"postings", []string{"id", "account_id", "amount", "kind", "description", "posted_at", "idempotency_key",
				"card_id", "merchant", "mcc", "city", "country", "channel", "status", "search", "text_id", "text_args"}, len(d.Postings), func(i int) []any {
				p := d.Postings[i]
				// NULL, not '', when there is no key: the column is unique only when set.
				var key any
				if p.IdempotencyKey != "" {
					key = p.IdempotencyKey
				}
				status := p.Status
				if status == "" {
					status = string(account.Posted)
				}
				return []any{p.ID, p.AccountID, p.Amount, p.Kind, p.Description, micros(p.PostedAt), key,
					nullID(p.CardID), p.Merchant, p.MCC, p.City, p.Country, p.Channel, status, account.SearchText(p.Merchant, p.Description, p.TextID, p.TextArgs),
					p.TextID, encodeTextArgs(p.TextArgs)}
			}},
			{"statements", statementLoadColumns, len(d.Statements), func(i int) []any { return statementLoadRow(d.Statements[i]) }}, // sqlstore/statements.go
		}
		for _, st := range steps {
			if err := s.insertRows(ctx, tx.tx, st.table, st.cols, st.n, st.row); err != nil {
				if s.d.IsUniqueViolation(err, "", "") {
					return cp.E(op, cp.Conflict, "", err)
				}
				return cp.E(op, cp.Internal, "", fmt.Errorf("%s: %w", st.table, err))
			}
		}
		if s.d.AfterLoad != nil {
			if err := s.d.AfterLoad(ctx, tx.tx); err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
		}
		return nil
	})
}

// defaultBatchParams is the placeholder cap for a Dialect that sets none.
const defaultBatchParams = 1000

// insertRows inserts n rows with multi-row VALUES lists of at most
// Dialect.BatchParams placeholders each, so a whole issuer loads in a few hundred
// statements rather than tens of thousands.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, n int, row func(i int) []any) error {
	limit := s.d.BatchParams
	if limit <= 0 {
		limit = defaultBatchParams
	}
	perChunk := max(1, limit/len(cols))
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	var (
		b    strings.Builder
		args = make([]any, 0, min(n, perChunk)*len(cols))
	)
	for start := 0; start < n; start += perChunk {
		end := min(n, start+perChunk)
		b.Reset()
		args = args[:0]
		b.WriteString(head)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range cols {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(len(args) + j + 1))
			}
			b.WriteByte(')')
			args = append(args, row(i)...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// nonNilBytes keeps a NOT NULL blob column from receiving NULL for an empty value.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
