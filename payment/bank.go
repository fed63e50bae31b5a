package payment

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cardportal/cardportal/cardcrypto"
)

// RoutingNumber is a US ABA routing transit number: nine digits whose last is a check
// digit over the first eight with the weights 3, 7, 1 repeated, so that
// 3(d1+d4+d7) + 7(d2+d5+d8) + (d3+d6+d9) is a multiple of 10. It names a bank, not a
// person, so it is not a secret and is shown in full.
type RoutingNumber string

// ParseRoutingNumber checks a routing number as a member types it (spaces and
// hyphens allowed between digits).
func ParseRoutingNumber(s string) (RoutingNumber, bool) {
	d := onlyDigits(s, " -")
	if len(d) != 9 || d == "000000000" {
		return "", false
	}
	// The first two digits are a Federal Reserve district (00-12), a thrift (21-32),
	// an electronic one (61-72) or traveller's cheques (80); anything else is no
	// bank's number even when the check digit happens to fit.
	switch p := (d[0]-'0')*10 + d[1] - '0'; {
	case p <= 12, p >= 21 && p <= 32, p >= 61 && p <= 72, p == 80:
	default:
		return "", false
	}
	sum := 0
	for i := range 9 {
		sum += int(d[i]-'0') * [3]int{3, 7, 1}[i%3]
	}
	if sum%10 != 0 {
		return "", false
	}
	return RoutingNumber(d), true
}

// AccountNumber is a bank account number: 4 to 17 digits (the range US banks use). It
// is a secret: its String, GoString, Format and LogValue show only the last 4, so it
// cannot reach a log or an error message by accident. It is stored sealed by the HSM
// and found again by a keyed MAC, never in clear.
type AccountNumber struct{ digits string }

// ParseAccountNumber checks an account number as a member types it.
func ParseAccountNumber(s string) (AccountNumber, bool) {
	d := onlyDigits(s, " -")
	if len(d) < 4 || len(d) > 17 || strings.Trim(d, "0") == "" {
		return AccountNumber{}, false
	}
	return AccountNumber{d}, true
}

// Digits returns the number itself, for the HSM only.
func (a AccountNumber) Digits() string { return a.digits }

// Last4 is what screens show.
func (a AccountNumber) Last4() string {
	if len(a.digits) < 4 {
		return ""
	}
	return a.digits[len(a.digits)-4:]
}

// Masked is "••••1234".
func (a AccountNumber) Masked() string { return Mask(a.Last4()) }

func (a AccountNumber) String() string       { return a.Masked() }
func (a AccountNumber) GoString() string     { return a.Masked() }
func (a AccountNumber) LogValue() slog.Value { return slog.StringValue(a.Masked()) }

// Format keeps %v, %s, %q, %x and %+v from printing the digits.
func (a AccountNumber) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.Masked())) }

// Mask shows the last digits of a bank account number as screens do.
func Mask(last4 string) string { return "••••" + last4 }

// SealPurpose binds sealed account numbers to their use, so no other sealed secret
// (a TOTP seed) can be passed off as one.
const SealPurpose = "bank-account-number"

// MACPurpose separates the lookup MAC of account numbers from other MACs.
const MACPurpose = "bank-account-number"

// BankAccount is a member's linked bank account, the source of their payments.
type BankAccount struct {
	ID        int64
	AccountID int64 // the card account it pays
	MemberID  int64 // who linked it
	Nickname  string
	Routing   RoutingNumber
	Last4     string
	Sealed    cardcrypto.Sealed // the account number, sealed by the HSM
	MAC       []byte            // keyed MAC of the number, to find a duplicate link
	CreatedAt time.Time
}

// Masked is the account number as screens show it.
func (b BankAccount) Masked() string { return Mask(b.Last4) }

func onlyDigits(s, seps string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(seps, r):
		default:
			return ""
		}
	}
	return b.String()
}
