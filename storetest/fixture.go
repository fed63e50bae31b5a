package storetest

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/issuer"
)

// Base is the instant the suite's clocks start from. It is on an hour boundary, so
// throttle windows (aligned to the Unix epoch) start at Base too.
var Base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Fingerprint is the fixture's PAN fingerprint of a card: any 32 distinct bytes do,
// since the store only compares them.
func Fingerprint(cardID int64) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "fingerprint:%d", cardID))
	return h[:]
}

// nationalIDMAC is the fixture's stand-in for a holder's keyed national-ID MAC.
func nationalIDMAC(holderID int64) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "national-id:%d", holderID))
	return h[:16]
}

func sealed(cardID int64) cardcrypto.Sealed {
	return cardcrypto.Sealed{KeyID: "test-key-1", Blob: fmt.Appendf(nil, "sealed-pan-%d", cardID)}
}

// Fixture is a small issuer dataset that covers every case the suite checks:
//
//	account 10 (Gold, balance 6500):
//	  holder 100, basic:      card 1000 active, card 1002 lost (newer)
//	  holder 101, additional: card 1001 inactive (not yet activated)
//	  holder 102, additional: card 1003 closed (nothing to register with)
//	account 20 (Platinum, no postings, nothing due):
//	  holder 200, basic:      card 2000 frozen, 15 digits
func Fixture() issuer.Dataset {
	return issuer.Dataset{
		Products: []issuer.Product{
			{ID: 1, Code: "gold", Name: "Gold Card", PANLength: 16, Currency: "USD"},
			{ID: 2, Code: "platinum", Name: "Platinum Card", PANLength: 15, Currency: "USD"},
		},
		Accounts: []issuer.Account{
			{ID: 10, ProductCode: "gold", Currency: "USD", CreditLimit: 500000, PaymentDue: date(2026, 3, 25), MinimumDue: 2500, OpenedAt: date(2020, 1, 1)},
			{ID: 20, ProductCode: "platinum", Currency: "USD", CreditLimit: 1000000, OpenedAt: date(2021, 6, 1)},
		},
		CardHolders: []issuer.CardHolder{
			{ID: 100, AccountID: 10, Basic: true, Name: "Ada Lovelace", BirthDate: date(1980, 4, 2), NationalIDMAC: nationalIDMAC(100), Email: "ada@example.com", Phone: "+15550100",
				Address: fixtureAddress},
			{ID: 101, AccountID: 10, Name: "Byron Lovelace", BirthDate: date(2001, 7, 15), NationalIDMAC: nationalIDMAC(101), Email: "byron@example.com"},
			{ID: 102, AccountID: 10, Name: "Carol Lovelace", BirthDate: date(1999, 1, 1), NationalIDMAC: nationalIDMAC(102)},
			{ID: 200, AccountID: 20, Basic: true, Name: "Dan Brown", BirthDate: date(1975, 11, 30), NationalIDMAC: nationalIDMAC(200), Phone: "+15550200",
				Address: issuer.Address{Line1: "Drottninggatan 5", City: "Stockholm", Postcode: "111 22", Country: "SE"}},
		},
		Cards: []issuer.Card{
			{ID: 1000, AccountID: 10, CardHolderID: 100, Sealed: sealed(1000), Fingerprint: Fingerprint(1000), Last: "1234", ExpMonth: 12, ExpYear: 2028, State: issuer.StateActive, IssuedAt: date(2024, 1, 1)},
			{ID: 1001, AccountID: 10, CardHolderID: 101, Sealed: sealed(1001), Fingerprint: Fingerprint(1001), Last: "5678", ExpMonth: 6, ExpYear: 2027, State: issuer.StateInactive, IssuedAt: date(2025, 1, 1)},
			{ID: 1002, AccountID: 10, CardHolderID: 100, Sealed: sealed(1002), Fingerprint: Fingerprint(1002), Last: "4321", ExpMonth: 1, ExpYear: 2029, State: issuer.StateLost, IssuedAt: date(2025, 6, 1)},
			{ID: 1003, AccountID: 10, CardHolderID: 102, Sealed: sealed(1003), Fingerprint: Fingerprint(1003), Last: "8888", ExpMonth: 3, ExpYear: 2027, State: issuer.StateClosed, IssuedAt: date(2023, 1, 1)},
			{ID: 2000, AccountID: 20, CardHolderID: 200, Sealed: sealed(2000), Fingerprint: Fingerprint(2000), Last: "12345", ExpMonth: 9, ExpYear: 2029, State: issuer.StateFrozen, IssuedAt: date(2024, 5, 1)},
		},
		Postings: []issuer.Posting{
			{ID: 1, AccountID: 10, Amount: 5000, Kind: "purchase", Description: "Books", PostedAt: date(2026, 2, 1), IdempotencyKey: "purchase-1"},
			{ID: 2, AccountID: 10, Amount: 2500, Kind: "fee", Description: "Annual fee", PostedAt: date(2026, 2, 2)},
			{ID: 3, AccountID: 10, Amount: -1000, Kind: "payment", Description: "Thank you", PostedAt: date(2026, 2, 10), IdempotencyKey: "payment-1"},
		},
	}
}

// Large is a dataset the size of a small issuer (per account: 1 basic and, on every
// other account, 1 additional holder; a card each plus a few replacements; postings
// spread evenly), to check that loading stays fast. IDs do not overlap Fixture's.
func Large(accounts, postings int) issuer.Dataset {
	d := issuer.Dataset{Products: []issuer.Product{{ID: 1, Code: "classic", Name: "Classic", PANLength: 16, Currency: "EUR"}}}
	var holderID, cardID int64 = 100000, 500000
	addCard := func(acct, holder int64) {
		cardID++
		d.Cards = append(d.Cards, issuer.Card{ID: cardID, AccountID: acct, CardHolderID: holder, Sealed: sealed(cardID),
			Fingerprint: Fingerprint(cardID), Last: fmt.Sprintf("%04d", cardID%10000), ExpMonth: 1 + int(cardID%12), ExpYear: 2030,
			State: issuer.StateActive, IssuedAt: Base.AddDate(-1, 0, 0)})
	}
	for i := range accounts {
		acct := int64(10000 + i)
		d.Accounts = append(d.Accounts, issuer.Account{ID: acct, ProductCode: "classic", Currency: "EUR", CreditLimit: 300000, OpenedAt: Base.AddDate(-2, 0, 0)})
		for j := range 1 + (i+1)%2 {
			holderID++
			d.CardHolders = append(d.CardHolders, issuer.CardHolder{ID: holderID, AccountID: acct, Basic: j == 0,
				Name: fmt.Sprintf("Holder %d", holderID), BirthDate: date(1970+i%30, time.Month(1+i%12), 1+i%28), NationalIDMAC: nationalIDMAC(holderID)})
			addCard(acct, holderID)
			if i%6 == 0 {
				addCard(acct, holderID)
			}
		}
	}
	for i := range postings {
		d.Postings = append(d.Postings, issuer.Posting{ID: int64(1 + i), AccountID: int64(10000 + i%accounts), Amount: int64(100 + i%900),
			Kind: "purchase", Description: "Shop", PostedAt: Base.Add(-time.Duration(i) * time.Minute), IdempotencyKey: fmt.Sprintf("large-%d", i)})
	}
	return d
}
