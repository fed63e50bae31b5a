package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/web"
)

// TestOutboxDeliveryState checks that the outbox page shows what became of each
// queued message, failures marked, with the transport's error, in each language.
func TestOutboxDeliveryState(t *testing.T) {
	store, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	queue := func(to string, d notify.Delivery) {
		m := notify.Message{MemberID: 1, Channel: notify.Email, To: to, Kind: "locked", Subject: "Locked", Body: "Body", CreatedAt: at}
		if _, err := store.QueueOutbox(t.Context(), &m, func(id int64) jobs.Job {
			return jobs.Job{Kind: notify.DeliverKind, MaxAttempts: 3}
		}, at); err != nil {
			t.Fatal(err)
		}
		if err := store.SetDelivery(t.Context(), m.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	queue("ana@example.com", notify.Delivery{State: notify.Failed, Attempts: 3, LastError: "smtp: 550 5.1.1 mailbox unavailable"})
	queue("bo@example.com", notify.Delivery{State: notify.Delivered, Attempts: 1, DeliveredAt: at.Add(time.Minute)})
	srv := httptest.NewServer(web.NewHandler(web.Deps{Outbox: store, Now: func() time.Time { return at }}))
	t.Cleanup(srv.Close)

	tests := []struct {
		lang string
		want []string
	}{
		{"en", []string{"Delivery", "Failed", "Delivered", "Last error", "Attempts", "messages are sent as well as kept here"}},
		{"es", []string{"Entrega", "Fallido", "Entregado", "Último error", "Intentos"}},
		{"sv", []string{"Leverans", "Misslyckades", "Levererat", "Senaste fel", "Försök"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/dev/outbox", nil)
			req.Header.Set("Accept-Language", tt.lang)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			page := string(b)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d:\n%.2000s", resp.StatusCode, page)
			}
			for _, s := range append(tt.want, "smtp: 550 5.1.1 mailbox unavailable", `class="delivery delivery-failed"`) {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			if strings.Count(page, "delivery-failed") != 1 {
				t.Errorf("want exactly one message marked failed")
			}
			if strings.Contains(page, "ana@example.com") {
				t.Error("the page shows a full address")
			}
		})
	}
}
