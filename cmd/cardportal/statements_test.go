package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/statement"
)

// TestStatementsCommand closes a day's cycles from the command line, on the demo's
// database: the accounts due that day get their statement, and a second run of the
// same day adds none.
func TestStatementsCommand(t *testing.T) {
	dir := t.TempDir()
	args := []string{"-data-dir", dir, "-demo-size", "12", "-argon-memory", "64", "-argon-time", "1"}
	closeDay := func(day string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"cardportal", "statements", "close", "-date", day}, args...), func(string) string { return "" }, &out, io.Discard)
		return out.String(), err
	}
	if err := run(context.Background(), append([]string{"cardportal", "statements", "close"}, args...), func(string) string { return "" }, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "-date is required") {
		t.Errorf("without -date: %v", err)
	}
	// The first run loads the demo; a day long past closes nothing.
	out, err := closeDay("2020-01-15")
	if err != nil || !strings.Contains(out, "statements closing 2020-01-15: 0 accounts due, 0 statements") {
		t.Fatalf("first run: %q, %v", out, err)
	}

	// Find the next day some demo account closes, as the job would.
	s, err := sqlite.Open(t.Context(), filepath.Join(dir, "cardportal.db"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		day time.Time
		due []int64
	)
	for d := statement.Civil(time.Now()); len(due) == 0 && d.Before(time.Now().AddDate(0, 0, 40)); d = d.AddDate(0, 0, 1) {
		if due, err = s.DueAccounts(t.Context(), d, 0, 100); err != nil {
			t.Fatal(err)
		}
		day = d
	}
	s.Close()
	if len(due) == 0 {
		t.Fatal("no demo account closes in the next 40 days")
	}
	ds := day.Format(time.DateOnly)
	out, err = closeDay(ds)
	want := fmt.Sprintf("statements closing %s: %d accounts due, %d statements", ds, len(due), len(due))
	if err != nil || !strings.Contains(out, want) {
		t.Errorf("close %s: %q, %v; want %q", ds, out, err, want)
	}
	out, err = closeDay(ds)
	if err != nil || !strings.Contains(out, "0 accounts due, 0 statements, 0 interest charges") {
		t.Errorf("rerun of %s: %q, %v", ds, out, err)
	}
}
