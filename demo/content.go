package demo

import (
	"strings"

	"github.com/cardportal/cardportal/issuer"
)

// productSpec is a card product with what the generator needs to issue it.
type productSpec struct {
	issuer.Product
	bin                string // fictional issuer identification number, the PAN's first 6 digits
	minLimit, maxLimit int64  // credit limit range in whole currency units, drawn in steps of limitStep
	weight             int    // relative share of the accounts that are not showcase accounts
}

// limitStep is the granularity of credit limits: issuers set round limits.
const limitStep = 100

// products are Northwind's card products, in ID order. The BINs are made up; they
// only have the shapes card.ParsePAN accepts (15 digits from 34/37, 16 from 2-6).
var products = []productSpec{
	{Product: issuer.Product{Code: "green", Name: "Northwind Green Card", PANLength: 15, Currency: "USD"},
		bin: "379401", minLimit: 1_000, maxLimit: 10_000, weight: 35},
	{Product: issuer.Product{Code: "gold", Name: "Northwind Gold Card", PANLength: 15, Currency: "USD"},
		bin: "379402", minLimit: 5_000, maxLimit: 15_000, weight: 30},
	{Product: issuer.Product{Code: "platinum", Name: "Northwind Platinum Card", PANLength: 15, Currency: "USD"},
		bin: "349403", minLimit: 10_000, maxLimit: 25_000, weight: 10},
	{Product: issuer.Product{Code: "cashback", Name: "Northwind Everyday Cashback", PANLength: 16, Currency: "USD"},
		bin: "559404", minLimit: 1_000, maxLimit: 8_000, weight: 25},
}

func productByCode(code string) int {
	for i, p := range products {
		if p.Code == code {
			return i
		}
	}
	panic("demo: unknown product " + code) // only reachable through a typo in showcase
}

// showcaseAccount fixes the shape of one of the first accounts, whose cards are
// printed: the demo must be able to show every registration path whatever the seed.
type showcaseAccount struct {
	product string
	states  []string // the state of each member's card, basic first; its length is the number of members
	print   []int    // which members to print, by index into states
}

// showcase are the first accounts. The first three printed cards are, in order, a
// basic member of a 15-digit product, an additional member on the same account (so
// the "basic card member's date of birth" path can be tried) and a member of the
// 16-digit product. The additional member's card is newly issued, so that activation
// can be tried too. No printed card is lost, closed or frozen: all can register and
// sign in to a working card.
var showcase = []showcaseAccount{
	{product: "gold", states: []string{issuer.StateActive, issuer.StateInactive}, print: []int{0, 1}},
	{product: "cashback", states: []string{issuer.StateActive}, print: []int{0}},
	{product: "platinum", states: []string{issuer.StateActive}, print: []int{0}},
	{product: "green", states: []string{issuer.StateActive, issuer.StateActive}, print: []int{1}},
}

// People's names mix the places the portal is localised for (SPEC PL2): the US,
// Spanish-speaking countries, Sweden and India. Some carry å, ä, ö, ñ or é so that
// every screen, e-mail and registration check meets non-ASCII names from the start.
var firstNames = []string{
	"James", "Emily", "Michael", "Olivia", "Daniel", "Grace", "Tyler", "Hannah",
	"José", "María", "Sofía", "Alejandro", "Lucía", "Martín", "Begoña", "Iñaki",
	"Björn", "Åsa", "Linnéa", "Göran", "Märta", "Åke", "Ingrid", "Sören",
	"Priya", "Arjun", "Ananya", "Rohan", "Aditi", "Vikram", "Kavya", "Rahul",
}

var lastNames = []string{
	"Smith", "Johnson", "Miller", "Davis", "Walker", "Bennett",
	"García", "Martínez", "Rodríguez", "Peña", "Muñoz", "Ibáñez",
	"Andersson", "Johansson", "Nilsson", "Åberg", "Öberg", "Sjöström",
	"Patel", "Sharma", "Iyer", "Reddy", "Gupta", "Nair",
}

// asciiFold maps the accented letters of the name lists to the plain letters used in
// e-mail addresses, whose local parts many mail systems still restrict to ASCII.
var asciiFold = strings.NewReplacer(
	"á", "a", "à", "a", "ä", "a", "å", "a",
	"é", "e", "è", "e", "ë", "e",
	"í", "i", "ï", "i",
	"ó", "o", "ö", "o", "ø", "o",
	"ú", "u", "ü", "u",
	"ñ", "n",
)

// emailPart turns a name into the lower-case ASCII letters of an e-mail local part.
func emailPart(name string) string {
	s := asciiFold.Replace(strings.ToLower(name))
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r
		}
		return -1
	}, s)
}
