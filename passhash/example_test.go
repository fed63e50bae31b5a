package passhash_test

import (
	"context"
	"fmt"
	"log"

	"github.com/cardportal/cardportal/passhash"
)

// A login handler verifies the stored hash, upgrading it after a
// successful login if the configured parameters have since changed, and
// spends the same effort on unknown users so they cannot be told apart.
func ExampleHasher_Verify() {
	ctx := context.Background()
	h, err := passhash.NewHasher(passhash.DefaultParams, 0)
	if err != nil {
		log.Fatal(err)
	}

	// A hash stored before the parameters were raised (t=1 instead of 2).
	stored := "$argon2id$v=19$m=64,t=1,p=4$c29tZXNhbHRTT01FU0FMVA$IRiai+iLw8YycYV4g+/JTg"
	userExists := true

	var ok, needsRehash bool
	if userExists {
		ok, needsRehash, err = h.Verify(ctx, stored, []byte("correct horse battery staple"))
	} else {
		ok, err = h.VerifyDummy(ctx, []byte("correct horse battery staple"))
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ok:", ok, "needsRehash:", needsRehash)
	if ok && needsRehash {
		fresh, err := h.Hash(ctx, []byte("correct horse battery staple"))
		if err != nil {
			log.Fatal(err)
		}
		p, _, _, _ := passhash.Parse(fresh)
		fmt.Printf("rehashed with m=%d,t=%d,p=%d\n", p.Memory, p.Time, p.Threads)
	}
	// Output:
	// ok: true needsRehash: true
	// rehashed with m=19456,t=2,p=1
}
