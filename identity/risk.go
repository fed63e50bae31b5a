package identity

import (
	"net/netip"
	"slices"
)

// Risk is what step-up decides on, gathered from the store by the service so that
// the decision itself is a pure function that tests can table.
type Risk struct {
	KnownDevice   bool     // the member has signed in from this device before
	TrustedDevice bool     // ... and chose to trust it, and the trust has not run out
	LockedSince   bool     // the account was locked (or its password reset) since the last sign-in
	Network       string   // the request's network (see NetworkOf); "" if unknown
	Recent        []string // networks of the member's recent sign-ins
	Required      bool     // the member (or their company) requires a second factor
	ResetSince    bool     // the password was reset since the last sign-in (recovery.go)
}

// Assess returns why a second factor is needed; none means it is not. A trusted device
// skips step-up for everything but the member's own requirement: trust is the member's
// statement that this device is theirs, and a lock or an odd network seen from it is
// then most likely the member themselves (a thief on another device still meets
// new_device). A member who requires a second factor gets one every time.
func Assess(r Risk) []Reason {
	var out []Reason
	if r.Required {
		out = append(out, ReasonMemberRequires)
	}
	// A reset proves the card and the inbox or phone, which a thief with the wallet
	// and an unlocked phone has too: even a trusted device is asked once.
	if r.ResetSince {
		out = append(out, ReasonAfterReset)
	}
	if r.TrustedDevice {
		return out
	}
	if !r.KnownDevice {
		out = append(out, ReasonNewDevice)
	}
	if r.LockedSince {
		out = append(out, ReasonAfterLockout)
	}
	// With no history (the first sign-in after a registration that recorded none)
	// there is nothing to be unusual against.
	if len(r.Recent) > 0 && (r.Network == "" || !slices.Contains(r.Recent, r.Network)) {
		out = append(out, ReasonUnusualNetwork)
	}
	return out
}

// NetworkOf returns the network an address belongs to for comparing sign-ins: the /24
// for IPv4 and the /48 for IPv6 (what one household or office typically holds), or ""
// if ip is not an address.
func NetworkOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}
