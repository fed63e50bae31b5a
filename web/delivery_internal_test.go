package web

import (
	"testing"

	"github.com/cardportal/cardportal/locale"
)

// TestDeliveryMessagesExist checks the outbox page's delivery labels are in the
// catalogue.
func TestDeliveryMessagesExist(t *testing.T) {
	ids := []string{"outbox.state", "outbox.attempts", "outbox.delivered_at", "outbox.error", "outbox.help.delivery"}
	for _, id := range deliveryStates {
		ids = append(ids, id)
	}
	for _, id := range ids {
		if !locale.HasMessage(id) {
			t.Errorf("message %q is not in the catalogue", id)
		}
	}
}
