package demo

import (
	"time"

	"github.com/cardportal/cardportal/cardcrypto"
)

// Cards regenerates every current card of the demo issuer for seed and size — not only
// the few Generate prints — with its number, expiry and the code hsm computes, for the
// simulator to use. Like the printed cards, they match the stored records only for
// the seed, size and keys the data was loaded with. Nothing is sealed.
func Cards(seed uint64, now time.Time, hsm cardcrypto.HSM, size int) ([]DemoCard, error) {
	g, err := runGenerator("demo.Cards", seed, now, hsm, size, false, true)
	if err != nil {
		return nil, err
	}
	return g.every, nil
}
