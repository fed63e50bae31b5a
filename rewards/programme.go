package rewards

import (
	"context"

	"github.com/cardportal/cardportal/offers"
)

// Programme is the issuer's reference data for rewards, offers and benefits, as its
// core systems (or the demo) hand it over.
type Programme struct {
	Rates    []ProgrammeRate
	Items    []ProgrammeItem // in display order
	Offers   []offers.Offer  // ID is assigned by the store
	Benefits []offers.Benefit
}

// ProgrammeRate is one earn rate: MCC "" is the product's base rate.
type ProgrammeRate struct {
	ProductCode string
	MCC         string
	PointsPer   int64 // points per 100 minor units
}

// ProgrammeItem is one catalogue item (see Item).
type ProgrammeItem struct {
	Code     string
	Kind     ItemKind
	Points   int64
	Step     int64
	Value    int64
	Currency string
}

// Loader stores a programme.
type Loader interface {
	// LoadRewards adds what is not stored yet (rates by product and MCC, items and
	// offers by code, benefits by product and position) and changes nothing that is,
	// so loading at every start, on any number of instances, is harmless.
	LoadRewards(ctx context.Context, p Programme) error
}
