package demo

import (
	"fmt"
	"math/rand/v2"

	"github.com/cardportal/cardportal/issuer"
)

// Billing addresses of the demo card holders (SPEC AC11): fictional streets in real
// cities of the countries whose postcodes the personal-details page checks, so every
// address passes details.Normalize. Everyone on an account shares one household
// address. The address has its own random stream keyed by the account, drawn after
// nothing else, so adding it changed no card number, name or posting of the seed.

type demoCity struct {
	country, city, region string
	postcode              func(r *rand.Rand) string
	street                []string
	format                string // "%[1]d %[2]s" (number first) or "%[2]s %[1]d"
}

var demoCities = []demoCity{
	{"US", "Seattle", "WA", func(r *rand.Rand) string { return fmt.Sprintf("981%02d", 1+r.IntN(99)) },
		[]string{"Harbor Ave", "Pine St", "Cedar Way", "Lakeview Dr"}, "%[1]d %[2]s"},
	{"US", "Portland", "OR", func(r *rand.Rand) string { return fmt.Sprintf("972%02d", 1+r.IntN(99)) },
		[]string{"Oak St", "Willow Rd", "River Pkwy", "Maple Ave"}, "%[1]d %[2]s"},
	{"US", "Austin", "TX", func(r *rand.Rand) string { return fmt.Sprintf("787%02d", 1+r.IntN(99)) },
		[]string{"Elm St", "Bluebonnet Ln", "Congress Ave"}, "%[1]d %[2]s"},
	{"SE", "Stockholm", "", func(r *rand.Rand) string { return fmt.Sprintf("1%02d %02d", 11+r.IntN(80), r.IntN(100)) },
		[]string{"Björkgatan", "Sjövägen", "Ängsvägen", "Kungsgatan"}, "%[2]s %[1]d"},
	{"SE", "Göteborg", "", func(r *rand.Rand) string { return fmt.Sprintf("4%02d %02d", 11+r.IntN(80), r.IntN(100)) },
		[]string{"Hamngatan", "Linnégatan", "Åvägen"}, "%[2]s %[1]d"},
	{"ES", "Madrid", "Madrid", func(r *rand.Rand) string { return fmt.Sprintf("280%02d", 1+r.IntN(55)) },
		[]string{"Calle del Olmo", "Calle de la Peña", "Avenida del Río"}, "%[2]s, %[1]d"},
	{"ES", "Sevilla", "Sevilla", func(r *rand.Rand) string { return fmt.Sprintf("410%02d", 1+r.IntN(20)) },
		[]string{"Calle Naranjo", "Plaza del Sol"}, "%[2]s, %[1]d"},
	{"IN", "Bengaluru", "Karnataka", func(r *rand.Rand) string { return fmt.Sprintf("560%03d", 1+r.IntN(99)) },
		[]string{"MG Road", "Residency Road", "Church Street"}, "%[1]d %[2]s"},
}

// demoAddress is the household address of an account.
func (g *generator) demoAddress(accountID int64) issuer.Address {
	r := rand.New(rand.NewPCG(g.seed, mix(0xadd7e55<<32^uint64(accountID))))
	c := demoCities[r.IntN(len(demoCities))]
	a := issuer.Address{
		Line1:    fmt.Sprintf(c.format, 1+r.IntN(240), c.street[r.IntN(len(c.street))]),
		City:     c.city,
		Region:   c.region,
		Postcode: c.postcode(r),
		Country:  c.country,
	}
	if r.IntN(4) == 0 {
		a.Line2 = fmt.Sprintf("Apt %d", 1+r.IntN(30))
	}
	return a
}
