package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/sqlstore"
	"github.com/cardportal/cardportal/statement"
)

// statementsCmd is "cardportal statements close -date YYYY-MM-DD [flags]": closes
// every cycle that ends on the date, against the configured database. The server
// does the same each day for the days that have ended; a date already closed closes
// nothing more, so the two never double a statement or its interest.
func statementsCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: cardportal statements close -date YYYY-MM-DD [flags]"
	if len(args) == 0 || args[0] != "close" {
		return errors.New(usage)
	}
	date, rest, err := dateFlag(args[1:]) // payments.go
	if err != nil {
		return err
	}
	if date.IsZero() {
		return fmt.Errorf("%s: -date is required", usage)
	}
	c, err := parseConfig("cardportal statements close", rest, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, c.LogLevel)
	a, err := build(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.store.Close()
	start := time.Now()
	res, err := a.statements.Close(ctx, date)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "statements closing %s: %d accounts due, %d statements, %d interest charges, in %s\n",
		date.Format(time.DateOnly), res.Accounts, res.Statements, res.Interest, time.Since(start).Round(time.Millisecond))
	return nil
}

// startStatements schedules each ended day's close (hourly, so a restart or a clock
// change never skips one) and runs the close jobs, until ctx ends or the returned
// stop is called. Every instance does both: a day's job is enqueued once (dedupe
// key) and claimed by one runner (SKIP LOCKED on PostgreSQL).
func startStatements(ctx context.Context, store *sqlstore.Store, svc *statement.Service, now func() time.Time, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	r := &jobs.Runner{Store: store, Handlers: map[string]jobs.Handler{statement.CloseKind: svc.Handle},
		Now: now, Log: log, Poll: time.Minute, Timeout: 30 * time.Minute, Lease: time.Hour, Batch: 1}
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if err := statement.Schedule(ctx, store, now()); err != nil && ctx.Err() == nil {
				log.Error("schedule statement close", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	wg.Go(func() { r.Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

// statementAlerts lets the member's "statement ready" preference (SPEC AC12) decide
// the statement's notice: SMS and push through the alerts, the email — which carries
// the statement's figures — from the statement service when the member wants it. If
// the preferences cannot be read, the email goes: a statement is worth telling about.
func statementAlerts(svc *statement.Service, al *alerts.Service, log *slog.Logger) {
	svc.SetReady(func(ctx context.Context, member identity.MemberID, st statement.Statement) bool {
		prefs, err := al.Prefs(ctx, member)
		if err != nil {
			log.ErrorContext(ctx, "statement alert preferences", "member", member, "err", err)
			return true
		}
		email := false
		for _, a := range alerts.StatementReadyAlert(prefs, st.Closing, st.Currency, st.DueDate) {
			var others []alerts.Channel
			for _, ch := range a.Channels {
				if ch == alerts.Email {
					email = true
				} else {
					others = append(others, ch)
				}
			}
			if a.Channels = others; len(others) > 0 {
				al.Send(ctx, member, []alerts.Alert{a})
			}
		}
		return email
	})
}
