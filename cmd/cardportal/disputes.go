package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cardportal/cardportal/disputes"
)

// disputesCmd is the issuer's side of a dispute (SPEC AC13) until the agent console
// (AC14) exists: "cardportal disputes resolve -id N -action review|resolve_member|
// resolve_merchant". A resolution for the merchant posts the reversal of the
// provisional credit; a repeat finishes one that failed half-way.
func disputesCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: cardportal disputes resolve -id N -action review|resolve_member|resolve_merchant [flags]"
	if len(args) == 0 || args[0] != "resolve" {
		return errors.New(usage)
	}
	// -id and -action come first; the rest are the program's usual flags.
	fs := flag.NewFlagSet("cardportal disputes resolve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.Int64("id", 0, "dispute id")
	action := fs.String("action", "", "review, resolve_member or resolve_merchant")
	var rest []string
	for i := 1; i < len(args); i++ {
		switch a := args[i]; a {
		case "-id", "--id", "-action", "--action":
			if i+1 >= len(args) {
				return fmt.Errorf("%s: %s needs a value", usage, a)
			}
			if err := fs.Set(strings.TrimLeft(a, "-"), args[i+1]); err != nil {
				return fmt.Errorf("%s: %w", usage, err)
			}
			i++
		default:
			rest = append(rest, a)
		}
	}
	if *id <= 0 || *action == "" {
		return errors.New(usage)
	}
	c, err := parseConfig("cardportal disputes resolve", rest, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, c.LogLevel)
	c.Demo = false // resolving touches existing data only
	a, err := build(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.store.Close()
	d, err := a.disputes.Resolve(ctx, *id, disputes.Action(*action))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dispute %s: %s (credit posting %d, reversal posting %d)\n",
		strconv.FormatInt(d.ID, 10), d.Status, d.CreditPostingID, d.ReversalPostingID)
	return nil
}
