package demo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/issuer"
)

// lostAndReplaced is a shape state, not a card state: the member's first card was
// reported lost and a replacement with a new number is active (SPEC AC10), so the
// demo has history on a replaced card.
const lostAndReplaced = "lost+replaced"

// The range of birth dates, inclusive of both years.
var (
	birthFirst = time.Date(1950, time.January, 1, 0, 0, 0, 0, time.UTC)
	birthDays  = int(time.Date(2005, time.January, 1, 0, 0, 0, 0, time.UTC).Sub(birthFirst) / (24 * time.Hour))
)

// stream names a kind of record. Each kind on each account draws from its own random
// stream, so that records of one kind never shift those of another: a later feature
// that draws more postings (a year of history) leaves every person, card number and
// limit as it was, and account i is the same whatever size is asked for.
type stream uint64

const (
	streamAccount stream = iota + 1
	streamPeople
	streamCards
	streamPostings
)

// generator accumulates the dataset. IDs are assigned in order from 1 per kind, so
// references hold before anything is stored.
type generator struct {
	seed uint64
	hsm  cardcrypto.HSM
	seal bool // false when the dataset will not be stored, to skip sealing

	now   time.Time // UTC
	today time.Time // the civil date of now, UTC midnight
	// expiryBase anchors expiry dates (see expiry).
	expiryBase time.Time

	ds    issuer.Dataset
	pans  map[string]bool // every number issued, to keep them distinct
	print []DemoCard
	// every collects all current cards, for the simulator (Cards), when keepEvery.
	every     []DemoCard
	keepEvery bool
}

func newGenerator(seed uint64, now time.Time, hsm cardcrypto.HSM, seal bool) *generator {
	now = now.UTC()
	return &generator{
		seed:  seed,
		hsm:   hsm,
		seal:  seal,
		now:   now,
		today: civil(now),
		// Expiry dates are printed, so they must come out the same when a restarted
		// server regenerates the cards it loaded earlier, yet every card must be
		// unexpired at now. Anchoring them to the start of an even year changes them
		// at most once every two years, instead of every day, month or year.
		expiryBase: time.Date(now.Year()-now.Year()%2, time.January, 1, 0, 0, 0, 0, time.UTC),
		pans:       make(map[string]bool),
	}
}

// rng returns the random stream for one kind of record on one account. The stream id
// is mixed so that neighbouring accounts do not start from neighbouring PCG states.
func (g *generator) rng(s stream, account int) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed, mix(uint64(s)<<40^uint64(account))))
}

// mix is the SplitMix64 finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func (g *generator) run(size int) error {
	g.ds = issuer.Dataset{
		Accounts: make([]issuer.Account, 0, size),
		// About 1.5 members and 1.5 cards per account, and a year of postings (see
		// history) of 100 to 250.
		CardHolders: make([]issuer.CardHolder, 0, size*3/2),
		Cards:       make([]issuer.Card, 0, size*3/2),
		Postings:    make([]issuer.Posting, 0, size*200),
	}
	g.products()
	for i := range size {
		if err := g.account(i); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) products() {
	for i, p := range products {
		p.ID = int64(i + 1)
		g.ds.Products = append(g.ds.Products, p.Product)
	}
}

// member is a card holder as generated, with what the dataset does not keep.
type member struct {
	holder issuer.CardHolder
	last   string // last name, which additional members may share
	last4  string // of the national ID; stored only as a MAC
}

// account generates account i (from 0) with its members, their cards and its
// postings.
func (g *generator) account(i int) error {
	r := g.rng(streamAccount, i)
	var shape showcaseAccount
	if i < len(showcase) {
		shape = showcase[i]
	} else {
		shape = randomShape(r, i)
	}
	p := products[productByCode(shape.product)]
	a := issuer.Account{
		ID:          int64(i + 1),
		ProductCode: p.Code,
		Currency:    p.Currency,
		CreditLimit: (p.minLimit + limitStep*r.Int64N((p.maxLimit-p.minLimit)/limitStep+1)) * 100,
		OpenedAt:    g.daysAgo(r, 365+r.IntN(9*365+1)),
	}

	people, cards := g.rng(streamPeople, i), g.rng(streamCards, i)
	var basic member
	for k, state := range shape.states {
		m := g.holder(people, a.ID, k == 0, basic.last)
		var since time.Time
		if k == 0 {
			basic = m
			// Nobody opens a card account before turning 18; the account still keeps
			// at least a year of history.
			if adult := m.holder.BirthDate.AddDate(18, 0, 0); a.OpenedAt.Before(adult) {
				a.OpenedAt = earlier(adult.Add(12*time.Hour), g.today.AddDate(-1, 0, 0))
			}
			since = a.OpenedAt
		} else {
			// Additional members join some time after the account opened.
			since = a.OpenedAt.AddDate(0, 0, cards.IntN(365))
		}

		cardState := state
		if state == lostAndReplaced {
			cardState = issuer.StateLost
		}
		c, pan, exp, err := g.card(cards, p, m.holder, cardState, since)
		if err != nil {
			return err
		}
		if state == lostAndReplaced {
			c, pan, exp, err = g.card(cards, p, m.holder, issuer.StateActive, g.replacedAt(cards, c.IssuedAt))
			if err != nil {
				return err
			}
		}

		if print := slices.Contains(shape.print, k); print || g.keepEvery {
			dc, err := g.demoCard(p, m, basic, pan, exp, c.State)
			if err != nil {
				return err
			}
			if print {
				g.print = append(g.print, dc)
			}
			if g.keepEvery {
				g.every = append(g.every, dc)
			}
		}
	}

	g.history(g.rng(streamPostings, i), &a, p.Code)
	g.ds.Accounts = append(g.ds.Accounts, a)
	return nil
}

// randomShape draws the product, members and card states of an account that is not a
// showcase account.
func randomShape(r *rand.Rand, i int) showcaseAccount {
	var shape showcaseAccount
	total := 0
	for _, p := range products {
		total += p.weight
	}
	n := r.IntN(total)
	for _, p := range products {
		if n < p.weight {
			shape.product = p.Code
			break
		}
		n -= p.weight
	}

	members := 1
	if r.IntN(100) < 40 {
		members++
		if r.IntN(100) < 30 {
			members++
		}
	}
	shape.states = make([]string, members)
	for k := range shape.states {
		shape.states[k] = issuer.StateActive
		if r.IntN(100) < 4 {
			shape.states[k] = issuer.StateInactive // newly issued, to be activated
		}
	}
	// Frozen and replaced cards by position rather than by chance, so that even a
	// small demo has one or two of each and their number does not depend on the seed.
	switch {
	case i%150 == 4:
		shape.states[0] = issuer.StateFrozen
	case i%100 == 7:
		shape.states[0] = lostAndReplaced
	}
	return shape
}

// holder generates a card member. An additional member passes the basic member's last
// name, which most of them share.
func (g *generator) holder(r *rand.Rand, accountID int64, basic bool, family string) member {
	id := int64(len(g.ds.CardHolders) + 1)
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	if !basic && r.IntN(10) < 7 {
		last = family
	}
	last4 := fmt.Sprintf("%04d", 1+r.IntN(9999)) // 0000 is never a serial number
	h := issuer.CardHolder{
		ID:            id,
		AccountID:     accountID,
		Basic:         basic,
		Name:          first + " " + last,
		BirthDate:     birthFirst.AddDate(0, 0, r.IntN(birthDays)),
		NationalIDMAC: g.hsm.MAC("national-id", []byte(last4)),
		// The holder ID makes every address unique however often names repeat.
		Email: fmt.Sprintf("%s.%s.%d@example.com", emailPart(first), emailPart(last), id),
		Phone: fmt.Sprintf("+120255501%02d", r.IntN(100)),
		// From its own stream (demo/address.go), so r draws what it always did.
		Address: g.demoAddress(accountID),
	}
	g.ds.CardHolders = append(g.ds.CardHolders, h)
	return member{holder: h, last: last, last4: last4}
}

// card issues a card of product p to h, no earlier than since.
func (g *generator) card(r *rand.Rand, p productSpec, h issuer.CardHolder, state string, since time.Time) (issuer.Card, card.PAN, card.Expiry, error) {
	pan, err := g.newPAN(r, p)
	if err != nil {
		return issuer.Card{}, card.PAN{}, card.Expiry{}, err
	}
	exp := g.expiry(r)
	// A card is valid for five years up to its expiry month.
	issued := time.Date(exp.Year-5, time.Month(exp.Month), 1, 0, 0, 0, 0, time.UTC)
	if state == issuer.StateInactive {
		issued = g.daysAgo(r, 2+r.IntN(19)) // newly issued, not yet activated
	}
	c := issuer.Card{
		ID:           int64(len(g.ds.Cards) + 1),
		AccountID:    h.AccountID,
		CardHolderID: h.ID,
		Fingerprint:  g.hsm.Fingerprint(pan),
		Last:         card.ScreenDigits(pan),
		ExpMonth:     exp.Month,
		ExpYear:      exp.Year,
		State:        state,
		IssuedAt:     later(issued, since),
	}
	if g.seal {
		if c.Sealed, err = g.hsm.SealPAN(pan); err != nil {
			return issuer.Card{}, card.PAN{}, card.Expiry{}, err
		}
	}
	g.ds.Cards = append(g.ds.Cards, c)
	return c, pan, exp, nil
}

// maxPANTries bounds the search for an unused number; with 10^8 numbers per product
// and at most a few hundred thousand cards, a second try is already rare.
const maxPANTries = 100

// newPAN draws a card number of product p that no card has yet: the BIN, random
// digits and the Luhn check digit.
func (g *generator) newPAN(r *rand.Rand, p productSpec) (card.PAN, error) {
	b := make([]byte, 0, p.PANLength)
	for range maxPANTries {
		b = append(b[:0], p.bin...)
		for len(b) < p.PANLength-1 {
			b = append(b, '0'+byte(r.IntN(10)))
		}
		b = append(b, card.LuhnCheckDigit(string(b)))
		if g.pans[string(b)] {
			continue
		}
		pan, err := card.ParsePAN(string(b))
		if err != nil {
			// Only a product whose BIN or length ParsePAN refuses gets here.
			return card.PAN{}, fmt.Errorf("product %s: %w", p.Code, err)
		}
		g.pans[string(b)] = true
		return pan, nil
	}
	return card.PAN{}, errors.New("product " + p.Code + ": no unused card number found")
}

// expiry draws an expiry month 36 to 59 months after expiryBase. Since now is less
// than two years after expiryBase, every card is valid for more than a year and
// expires within five years.
func (g *generator) expiry(r *rand.Rand) card.Expiry {
	t := g.expiryBase.AddDate(0, 36+r.IntN(24), 0)
	return card.Expiry{Month: int(t.Month()), Year: t.Year()}
}

// replacedAt is when the replacement for a card issued at lost was issued: within
// the last month, and in any case after the lost card.
func (g *generator) replacedAt(r *rand.Rand, lost time.Time) time.Time {
	t := g.daysAgo(r, 1+r.IntN(30))
	if !t.After(lost) {
		// lost is before today, so halfway to today is still in the past.
		t = lost.Add(g.today.Sub(lost) / 2).Truncate(time.Second)
	}
	return t
}

// minimumDue is the greater of 35.00 and 1% of the balance rounded half up to the
// cent, but never more than the balance itself.
func minimumDue(balance int64) int64 {
	return min(balance, max(3_500, (balance+50)/100))
}

// demoCard is the printable form of m's card.
func (g *generator) demoCard(p productSpec, m, basic member, pan card.PAN, exp card.Expiry, state string) (DemoCard, error) {
	code, err := g.hsm.CardCode(pan, exp)
	if err != nil {
		return DemoCard{}, err
	}
	dc := DemoCard{
		PAN:             pan,
		Code:            code,
		Expiry:          exp,
		Name:            m.holder.Name,
		BirthDate:       m.holder.BirthDate,
		NationalIDLast4: m.last4,
		Basic:           m.holder.Basic,
		Product:         p.Name,
		Email:           m.holder.Email,
		State:           state,
		Postcode:        m.holder.Address.Postcode,
	}
	if !m.holder.Basic {
		dc.BasicBirthDate = basic.holder.BirthDate
	}
	return dc, nil
}

// daysAgo is a time of day between 07:00 and 22:00 UTC, days days before today, in
// whole seconds (stores keep microseconds; whole seconds survive every round trip).
func (g *generator) daysAgo(r *rand.Rand, days int) time.Time {
	return g.today.AddDate(0, 0, -days).Add(time.Duration(7*3600+r.IntN(15*3600)) * time.Second)
}

// civil is the calendar date of t in UTC, at midnight: how civil dates are kept.
func civil(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
