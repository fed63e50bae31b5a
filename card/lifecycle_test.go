package card

import (
	"errors"
	"testing"
)

func TestNext(t *testing.T) {
	tests := []struct {
		name    string
		from    State
		action  Action
		to      State
		changed bool
		err     error
	}{
		{"activate new card", Inactive, Activate, Active, true, nil},
		{"activate active card", Active, Activate, Active, false, ErrNotInactive},
		{"activate frozen card", Frozen, Activate, Frozen, false, ErrNotInactive},
		{"activate lost card never", Lost, Activate, Lost, false, ErrBlocked},
		{"activate closed card never", Closed, Activate, Closed, false, ErrBlocked},

		{"freeze active", Active, Freeze, Frozen, true, nil},
		{"freeze frozen is a no-op", Frozen, Freeze, Frozen, false, nil},
		{"freeze inactive", Inactive, Freeze, Inactive, false, ErrNotActive},
		{"freeze lost", Lost, Freeze, Lost, false, ErrBlocked},

		{"unfreeze frozen", Frozen, Unfreeze, Active, true, nil},
		{"unfreeze active is a no-op", Active, Unfreeze, Active, false, nil},
		{"unfreeze inactive", Inactive, Unfreeze, Inactive, false, ErrNotFrozen},
		{"unfreeze lost", Lost, Unfreeze, Lost, false, ErrBlocked},
		{"unfreeze closed", Closed, Unfreeze, Closed, false, ErrBlocked},

		{"report active lost", Active, ReportLost, Lost, true, nil},
		{"report frozen lost", Frozen, ReportLost, Lost, true, nil},
		{"report inactive lost", Inactive, ReportLost, Lost, true, nil},
		{"report lost twice", Lost, ReportLost, Lost, false, ErrBlocked},
		{"report closed lost", Closed, ReportLost, Closed, false, ErrBlocked},

		{"unknown action", Active, Action("close"), Active, false, ErrAction},
		{"unknown state", State("stolen"), Freeze, State("stolen"), false, ErrNotActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to, changed, err := Next(tt.from, tt.action)
			if to != tt.to || changed != tt.changed || !errors.Is(err, tt.err) {
				t.Errorf("Next(%s, %s) = %s, %v, %v; want %s, %v, %v", tt.from, tt.action, to, changed, err, tt.to, tt.changed, tt.err)
			}
		})
	}
}

// TestLostIsFinal checks that no sequence of member actions leads out of Lost.
func TestLostIsFinal(t *testing.T) {
	for _, a := range []Action{Activate, Freeze, Unfreeze, ReportLost} {
		if to, _, _ := Next(Lost, a); to != Lost {
			t.Errorf("%s moved a lost card to %s", a, to)
		}
	}
}

func TestUsable(t *testing.T) {
	for s, want := range map[State]bool{Inactive: true, Active: true, Frozen: true, Lost: false, Closed: false, "": false} {
		if got := s.Usable(); got != want {
			t.Errorf("%q.Usable() = %v, want %v", s, got, want)
		}
	}
}
