package notify

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// memStore is an OutboxStore in memory, for testing the Outbox alone.
type memStore struct{ msgs []Message }

func (m *memStore) AddOutbox(_ context.Context, msg *Message) error {
	msg.ID = int64(len(m.msgs) + 1)
	m.msgs = append(m.msgs, *msg)
	return nil
}

func (m *memStore) ListOutbox(context.Context, int) ([]Message, error) { return m.msgs, nil }

func TestOutboxStoresAndLogsWithoutBody(t *testing.T) {
	var logs bytes.Buffer
	store := &memStore{}
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	o := &Outbox{Store: store, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Now: func() time.Time { return now }}
	err := o.Notify(context.Background(), Message{MemberID: 7, Channel: SMS, To: "+12025550123", Kind: "code", Body: "Your code is 493817"})
	if err != nil {
		t.Fatal(err)
	}
	if len(store.msgs) != 1 || store.msgs[0].Body != "Your code is 493817" || !store.msgs[0].CreatedAt.Equal(now) {
		t.Fatalf("stored %+v", store.msgs)
	}
	out := logs.String()
	if strings.Contains(out, "493817") || strings.Contains(out, "2025550123") {
		t.Errorf("log holds the body or the full number: %s", out)
	}
	if !strings.Contains(out, `"kind":"code"`) {
		t.Errorf("log lacks the message kind: %s", out)
	}
}

func TestMaskAddress(t *testing.T) {
	for in, want := range map[string]string{
		"ingrid.rodriguez@example.com": "i***@example.com",
		"+12025550123":                 "**********23",
		"abc":                          "***",
		"":                             "***",
	} {
		if got := MaskAddress(in); got != want {
			t.Errorf("MaskAddress(%q) = %q, want %q", in, got, want)
		}
	}
}
