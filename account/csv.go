package account

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/locale"
)

// MinorDigits is the number of minor-unit digits of an ISO 4217 currency: 2 for most,
// 0 for the few without a minor unit that the issuer could meet.
func MinorDigits(currency string) int {
	switch strings.ToUpper(currency) {
	case "JPY", "KRW", "ISK", "CLP", "VND":
		return 0
	}
	return 2
}

// PlainAmount writes minor units as a plain decimal in major units, "-1234.50": no
// grouping, no symbol and a full stop, so spreadsheets and programs read it in any
// locale.
func PlainAmount(minor int64, currency string) string {
	d := MinorDigits(currency)
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-minor) // -MinInt64 wraps to itself, which as uint64 is its magnitude
	}
	s := strconv.FormatUint(u, 10)
	if d > 0 {
		if len(s) <= d {
			s = strings.Repeat("0", d-len(s)+1) + s
		}
		s = s[:len(s)-d] + "." + s[len(s)-d:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseAmount reads an amount in major units as a member types it ("12", "12.5",
// "-3,20", "1 234.00") into minor units of currency. Either a full stop or a comma is
// the decimal separator (en uses one, es and sv the other); spaces are ignored as
// digit grouping. More decimals than the currency has, or anything else, is Invalid.
func ParseAmount(s, currency string) (int64, error) {
	bad := cp.E("account.ParseAmount", cp.Invalid, "tx.error.amount", nil)
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '\u202f' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	neg := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		neg, s = true, rest
	} else if rest, ok := strings.CutPrefix(s, "\u2212"); ok { // the minus sign sv uses
		neg, s = true, rest
	}
	whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(s, ",", "."), ".")
	d := MinorDigits(currency)
	if whole == "" || len(whole) > 13 || !allDigits(whole) || (hasFrac && (frac == "" || len(frac) > d || !allDigits(frac))) {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, bad
	}
	for range d {
		w *= 10
	}
	if hasFrac {
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", d-len(frac)), 10, 64)
		w += f
	}
	if neg {
		w = -w
	}
	return w, nil
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CSVColumns are the columns WriteCSV writes, in order; callers translate them for the
// header row.
var CSVColumns = []string{"date", "status", "description", "merchant", "category", "city", "country", "channel", "card", "card_member", "amount", "currency"}

// CSVWriter writes transactions as RFC 4180 CSV (CRLF line ends, quotes where needed)
// with a header row, defended against formula injection.
type CSVWriter struct {
	w   *csv.Writer
	loc locale.Locale
}

// NewCSVWriter starts a CSV document on w with header, one name per CSVColumns entry.
// Descriptions are written as Transaction.Text in loc.
func NewCSVWriter(w io.Writer, loc locale.Locale, header []string) (*CSVWriter, error) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	row := make([]string, len(header))
	for i, h := range header {
		row[i] = SafeCell(h)
	}
	if err := cw.Write(row); err != nil {
		return nil, err
	}
	return &CSVWriter{w: cw, loc: loc}, nil
}

// Write adds one transaction. Dates are ISO 8601 civil dates in UTC and amounts plain
// decimals, so the file reads the same in every locale.
func (c *CSVWriter) Write(t Transaction) error {
	card := ""
	if t.CardLast != "" {
		card = "•••• " + t.CardLast
	}
	return c.w.Write([]string{
		t.PostedAt.UTC().Format(time.DateOnly),
		string(t.Status),
		SafeCell(t.Text(c.loc)),
		SafeCell(t.Merchant),
		SafeCell(t.MCC),
		SafeCell(t.City),
		SafeCell(t.Country),
		string(t.Channel),
		card,
		SafeCell(t.HolderName),
		PlainAmount(t.Amount, t.Currency),
		SafeCell(t.Currency),
	})
}

// Flush writes what is buffered and reports any error so far.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// SafeCell defends a text cell against formula injection (CSV injection): a cell that
// a spreadsheet would evaluate, because it starts with =, +, -, @, a tab or a carriage
// return, gets a leading apostrophe, which spreadsheets treat as "text follows".
// Amount cells do not pass through here: they are numbers we format ourselves, and a
// refund's leading minus must stay a number.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
