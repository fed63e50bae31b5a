package demo

import (
	"time"

	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/rewards"
)

// Rewards is Northwind's rewards programme (SPEC AC5, AC6): earn rates per product, a
// catalogue, benefits and a few merchant offers at the demo's own merchants (see
// history.go). Offer dates are placed relative to now, like the history; the store
// keeps what it loaded first, so a restart does not move them.
func Rewards(now time.Time) rewards.Programme {
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	rate := func(product, mcc string, points int64) rewards.ProgrammeRate {
		return rewards.ProgrammeRate{ProductCode: product, MCC: mcc, PointsPer: points}
	}
	benefit := func(product string, ids ...string) []offers.Benefit {
		var out []offers.Benefit
		for _, id := range ids {
			out = append(out, offers.Benefit{ProductCode: product, TextID: id})
		}
		return out
	}
	p := rewards.Programme{
		// Points per dollar: one everywhere, more in each product's bonus categories.
		Rates: []rewards.ProgrammeRate{
			rate("green", "", 1), rate("green", "5411", 2),
			rate("gold", "", 1), rate("gold", "5411", 3), rate("gold", "5812", 3), rate("gold", "5814", 3),
			rate("platinum", "", 2), rate("platinum", "4511", 5), rate("platinum", "7011", 5),
			rate("cashback", "", 1), rate("cashback", "5411", 2), rate("cashback", "5541", 2),
		},
		// A point is worth a cent as a statement credit; vouchers and travel a little
		// more, merchandise a little less, as catalogues usually price them.
		Items: []rewards.ProgrammeItem{
			{Code: "credit", Kind: rewards.StatementCredit, Points: 2_500, Step: 500, Value: 100, Currency: "USD"},
			{Code: "voucher_coffee_10", Kind: rewards.Voucher, Points: 1_000},
			{Code: "voucher_books_25", Kind: rewards.Voucher, Points: 2_500},
			{Code: "merch_backpack", Kind: rewards.Merchandise, Points: 9_000},
			{Code: "merch_headphones", Kind: rewards.Merchandise, Points: 18_000},
			{Code: "travel_flight_100", Kind: rewards.Travel, Points: 9_500},
			{Code: "travel_hotel_night", Kind: rewards.Travel, Points: 16_000},
		},
		Offers: []offers.Offer{
			{Code: "coffee-3", Merchant: "Blue Harbor Coffee", MinSpend: 1_000, Credit: 300, Currency: "USD",
				StartsOn: day.AddDate(0, 0, -14), EndsOn: day.AddDate(0, 2, 0)},
			{Code: "grocers-10", MCC: "5411", MinSpend: 5_000, Credit: 1_000, Currency: "USD",
				StartsOn: day.AddDate(0, 0, -7), EndsOn: day.AddDate(0, 1, 15)},
			{Code: "bistro-15", Merchant: "Riverbend Bistro", MinSpend: 6_000, Credit: 1_500, Currency: "USD",
				StartsOn: day, EndsOn: day.AddDate(0, 3, 0)},
			{Code: "fuel-5", MCC: "5541", MinSpend: 4_000, Credit: 500, Currency: "USD",
				StartsOn: day.AddDate(0, 0, -30), EndsOn: day.AddDate(0, 1, 0)},
		},
	}
	p.Benefits = append(p.Benefits, benefit("green", "benefit.groceries", "benefit.purchase_protection", "benefit.fraud")...)
	p.Benefits = append(p.Benefits, benefit("gold", "benefit.dining", "benefit.travel_insurance", "benefit.purchase_protection", "benefit.fraud")...)
	p.Benefits = append(p.Benefits, benefit("platinum", "benefit.lounge", "benefit.hotel_status", "benefit.concierge", "benefit.travel_insurance", "benefit.fraud")...)
	p.Benefits = append(p.Benefits, benefit("cashback", "benefit.groceries", "benefit.extended_warranty", "benefit.fraud")...)
	return p
}
