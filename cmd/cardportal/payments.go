package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/payment"
)

// paymentsCmd is "cardportal payments run [-date YYYY-MM-DD] [flags]": one run of the
// payment job for a date (default today, UTC) against the configured database, for
// operators and tests. The server runs the same job every few minutes; both may run
// at once, since each payment is claimed by one runner only.
func paymentsCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		return fmt.Errorf("usage: cardportal payments run [-date YYYY-MM-DD] [flags]")
	}
	date, rest, err := dateFlag(args[1:])
	if err != nil {
		return err
	}
	c, err := parseConfig("cardportal payments run", rest, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, c.LogLevel)
	a, err := build(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.store.Close()
	if date.IsZero() {
		date = a.payments.Today()
	}
	rep, err := a.payments.RunDue(ctx, date)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "payments due %s: %d autopay payments made, %d posted, %d failed, %d left to other runners\n",
		date.Format(time.DateOnly), rep.AutopaysCreated, rep.Posted, rep.Failed, rep.Skipped)
	return nil
}

// dateFlag takes -date/--date (with "=" or a separate value) out of args, so the rest
// can go to the server's flag set.
func dateFlag(args []string) (time.Time, []string, error) {
	var (
		value string
		rest  []string
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "date" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return time.Time{}, nil, fmt.Errorf("-date needs a value")
			}
			i++
			v = args[i]
		}
		value = v
	}
	if value == "" {
		return time.Time{}, rest, nil
	}
	d, err := time.Parse(time.DateOnly, value)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("-date %q: want YYYY-MM-DD", value)
	}
	return d, rest, nil
}

// runPaymentsEvery runs the payment job for today now and then. Every instance may
// run it: claims are conditional updates, so each payment executes once.
func runPaymentsEvery(ctx context.Context, p *payment.Service, every time.Duration, log *slog.Logger) {
	if p == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rep, err := p.RunDue(ctx, p.Today())
		if err != nil && ctx.Err() == nil {
			log.Error("payment job", "err", err)
		} else if rep.Posted+rep.Failed+rep.AutopaysCreated > 0 {
			log.Info("payment job", "autopays", rep.AutopaysCreated, "posted", rep.Posted, "failed", rep.Failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// paymentAlerts raises the "payment received" alert (SPEC AC12) through the member's
// alert preferences when a payment posts. The receipt email, with its confirmation
// number, always goes from package payment, so the alert's email channel is left out
// here: a member who chose email would otherwise get the same news twice.
func paymentAlerts(p *payment.Service, al *alerts.Service, log *slog.Logger) {
	if p == nil || al == nil {
		return
	}
	p.OnReceived(func(ctx context.Context, member identity.MemberID, amount int64, currency string) {
		prefs, err := al.Prefs(ctx, member)
		if err != nil {
			log.ErrorContext(ctx, "payment alert preferences", "member", member, "err", err)
			return
		}
		var out []alerts.Alert
		for _, a := range alerts.PaymentReceivedAlert(prefs, amount, currency) {
			var chs []alerts.Channel
			for _, ch := range a.Channels {
				if ch != alerts.Email {
					chs = append(chs, ch)
				}
			}
			if a.Channels = chs; len(chs) > 0 {
				out = append(out, a)
			}
		}
		al.Send(ctx, member, out)
	})
}
