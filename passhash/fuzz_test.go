package passhash

import "testing"

// FuzzParse checks that Parse never panics on arbitrary stored strings and
// that anything it accepts is canonical: re-encoding gives back the exact
// input and the parsed params pass Validate. Canonical form matters because
// a string with two accepted spellings would defeat equality-based checks
// (and hint at a parser that is looser than intended).
func FuzzParse(f *testing.F) {
	for _, ka := range knownAnswers {
		f.Add(ka.encoded)
	}
	f.Add("")
	f.Add("$")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$$")
	f.Add("$argon2i$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$c29tZXNhbHRzb21lc2FsdA")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$c29tZXNhbHQ$c29tZXNhbHRzb21lc2FsdA")
	f.Add("$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHQ$c29tZXNhbHRzb21lc2FsdA")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHRzb21lc2FsdA==")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c29tZXNh\nbHQ$c29tZXNhbHRzb21lc2FsdA")

	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := Parse(s)
		if err != nil {
			if p != (Params{}) || salt != nil || key != nil {
				t.Fatalf("Parse(%q) returned values with error %v", s, err)
			}
			return
		}
		if got := encode(p, salt, key); got != s {
			t.Fatalf("Parse(%q) re-encodes to %q", s, got)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse(%q) accepted invalid params: %v", s, err)
		}
		if int(p.SaltLen) != len(salt) || int(p.KeyLen) != len(key) {
			t.Fatalf("Parse(%q) params %+v disagree with salt %d key %d", s, p, len(salt), len(key))
		}
	})
}
