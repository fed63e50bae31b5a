// Package demo builds the fictional issuer the demo runs on (SPEC PL7): Northwind Card
// Services, with its card products, accounts, card members, cards and a year of
// postings (see history.go), and the handful of cards printed at start-up so that a
// newcomer can register (SPEC ID1) without any real card.
//
// Everything is derived from one seed, so the same seed gives the same people, card
// numbers, limits and postings every time. That is what lets a restarted server print
// the same demo cards for data it loaded on an earlier run: the issuer.Loader cannot
// read cards back, so Seed regenerates them instead.
//
// Nothing here is real: the issuer, its products, BINs, merchants and people are made
// up, e-mail addresses are at example.com (reserved by RFC 2606) and phone numbers are
// in the 555-01xx range reserved for fiction.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/issuer"
)

// Size limits for Generate and Seed. The upper bound keeps a mistyped size from
// exhausting memory; it matches what the command line accepts.
const (
	MinSize = 1
	// MaxSize keeps the first-start load (a year of history, about 160 postings an
	// account, in one transaction) to seconds rather than minutes.
	MaxSize = 5_000
)

// DemoCard is what the program prints so that a newcomer can register a card. Its PAN
// and Code are the secrets of a fictional card: they print masked like any other, and
// a caller that prints them for the demo must ask for their Digits.
type DemoCard struct {
	PAN             card.PAN
	Code            card.Code // computed by the HSM, so it depends on the key file
	Expiry          card.Expiry
	Name            string
	BirthDate       time.Time // civil date, UTC midnight
	NationalIDLast4 string
	Basic           bool
	BasicBirthDate  time.Time // the basic card member's birth date, for additional members; zero otherwise
	Product         string    // the product's name, e.g. "Northwind Gold Card"
	Email           string
	State           string // issuer.StateActive, or issuer.StateInactive for a card still to be activated
	Postcode        string // of the billing address, for "Forgot User ID" by email
}

// Generate builds the issuer for seed: the same seed gives the same people, card
// numbers, expiry dates, limits and postings. size is the number of accounts, from
// MinSize to MaxSize. It also returns the cards to print: a basic card member of a
// 15-digit product, an additional card member on the same account, a member of the
// 16-digit product, then a couple more across products (fewer when size is tiny).
//
// Dates and times are placed relative to now, except what is printed: card numbers,
// names, birth dates and national IDs depend only on the seed, and expiry dates move
// only every two years (see expiryBase), so that a restart prints the cards that were
// loaded. Sealed card numbers use the HSM's random nonces and so differ between calls;
// everything else, fingerprints included, is identical for the same HSM keys.
func Generate(seed uint64, now time.Time, hsm cardcrypto.HSM, size int) (issuer.Dataset, []DemoCard, error) {
	return generate("demo.Generate", seed, now, hsm, size, true)
}

// Seed loads the demo issuer through l if no issuer data is stored yet and reports
// whether it did. Either way it returns the demo cards to print, regenerated from seed,
// with their codes computed by hsm: they match the stored records only if the data was
// loaded with the same seed and the same keys, which is how the program runs.
//
// If another instance loads the data between the check and the load, LoadIssuer fails
// with Conflict; Seed then returns loaded == false and no error, since the issuer is
// there either way.
func Seed(ctx context.Context, l issuer.Loader, hsm cardcrypto.HSM, seed uint64, now time.Time, size int) (cards []DemoCard, loaded bool, err error) {
	const op = "demo.Seed"
	has, err := l.HasIssuerData(ctx)
	if err != nil {
		return nil, false, cp.E(op, cp.Internal, "", err)
	}
	// Sealing is skipped when nothing will be stored: it is the only costly step, and
	// its output would be thrown away.
	ds, cards, err := generate(op, seed, now, hsm, size, !has)
	if err != nil {
		return nil, false, err
	}
	if has {
		return cards, false, nil
	}
	if err := l.LoadIssuer(ctx, ds); err != nil {
		if cp.IsKind(err, cp.Conflict) {
			return cards, false, nil
		}
		return nil, false, cp.E(op, cp.Internal, "", err)
	}
	return cards, true, nil
}

func generate(op string, seed uint64, now time.Time, hsm cardcrypto.HSM, size int, seal bool) (issuer.Dataset, []DemoCard, error) {
	g, err := runGenerator(op, seed, now, hsm, size, seal, false)
	if err != nil {
		return issuer.Dataset{}, nil, err
	}
	return g.ds, g.print, nil
}

// runGenerator generates the issuer; every also collects all current cards (Cards).
func runGenerator(op string, seed uint64, now time.Time, hsm cardcrypto.HSM, size int, seal, every bool) (*generator, error) {
	if hsm == nil {
		return nil, cp.E(op, cp.Internal, "", errors.New("no HSM"))
	}
	if size < MinSize || size > MaxSize {
		return nil, cp.E(op, cp.Invalid, "", fmt.Errorf("size %d is not in %d..%d", size, MinSize, MaxSize))
	}
	g := newGenerator(seed, now, hsm, seal)
	g.keepEvery = every
	if err := g.run(size); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return g, nil
}
