package demo

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/rewards"
)

// TestRewardsProgramme checks that the programme fits the demo issuer: rates and
// benefits name its products, items, benefits and category offers have their texts,
// every product has a base rate, and the programme depends only on the day.
func TestRewardsProgramme(t *testing.T) {
	now := time.Date(2026, 11, 22, 15, 4, 5, 0, time.UTC)
	p := Rewards(now)
	if diff := cmp.Diff(p, Rewards(now.Add(5*time.Hour))); diff != "" {
		t.Errorf("the programme changes within a day (-morning +afternoon):\n%s", diff)
	}
	based := map[string]bool{}
	for _, r := range p.Rates {
		if !knownProduct(r.ProductCode) {
			t.Errorf("rate for unknown product %q", r.ProductCode)
		}
		if r.MCC == "" {
			based[r.ProductCode] = true
		}
		if r.PointsPer <= 0 {
			t.Errorf("rate %+v earns nothing", r)
		}
	}
	for _, pr := range products {
		if !based[pr.Code] {
			t.Errorf("product %q has no base rate", pr.Code)
		}
	}
	var codes []string
	for _, it := range p.Items {
		codes = append(codes, it.Code)
		if !locale.HasMessage(rewards.Item{Code: it.Code}.NameID()) {
			t.Errorf("item %q has no name in the catalogues", it.Code)
		}
		if _, err := (rewards.Item{Points: it.Points, Step: it.Step}).Cost(0); err != nil || it.Points <= 0 {
			t.Errorf("item %q: price %d: %v", it.Code, it.Points, err)
		}
		if it.Kind == rewards.StatementCredit && (it.Currency != "USD" || it.Value <= 0) {
			t.Errorf("statement credit %q: %d per 100 points in %q", it.Code, it.Value, it.Currency)
		}
	}
	if !slices.ContainsFunc(p.Items, func(it rewards.ProgrammeItem) bool { return it.Kind == rewards.StatementCredit }) {
		t.Error("no statement credit in the catalogue")
	}
	if slices.Sort(codes); len(slices.Compact(codes)) != len(p.Items) {
		t.Error("item codes repeat")
	}
	for _, b := range p.Benefits {
		if !knownProduct(b.ProductCode) || !locale.HasMessage(b.TextID) {
			t.Errorf("benefit %+v: unknown product or text", b)
		}
	}
	for _, o := range p.Offers {
		if o.MCC != "" && o.Merchant == "" && !locale.HasMessage("offers.mcc."+o.MCC) {
			t.Errorf("offer %q: no text for category %s", o.Code, o.MCC)
		}
		if !o.Open(now) && o.StartsOn.Before(now) {
			t.Errorf("offer %q is already over on the day it is loaded", o.Code)
		}
		if o.Merchant != "" && !slices.ContainsFunc(shops, func(s shop) bool { return s.name == o.Merchant }) {
			t.Errorf("offer %q is at %q, not a demo merchant", o.Code, o.Merchant)
		}
	}
}

func knownProduct(code string) bool {
	return slices.ContainsFunc(products, func(p productSpec) bool { return p.Code == code })
}
