package storetest

import (
	"testing"

	"github.com/cardportal/cardportal/jobs"
)

// OpenInstances returns n stores on one fresh database, as n instances of the program
// would open it (each its own pool), closed when t ends.
type OpenInstances func(t *testing.T, n int) []Store

// RunInstances runs the parts of the contract that only several instances on one
// database can check — what must happen once however many instances try — each on a
// fresh database through two stores.
func RunInstances(t *testing.T, open OpenInstances) {
	tests := []struct {
		name string
		fn   func(t *testing.T, stores []Store)
	}{
		{"Lockout", func(t *testing.T, s []Store) { ConcurrentLockout(t, s...) }},
		{"JobClaims", func(t *testing.T, s []Store) { ConcurrentClaims(t, as[jobs.Store](s)...) }},
		{"Delivery", func(t *testing.T, s []Store) { ConcurrentDelivery(t, as[DeliveryStore](s)...) }},
		{"PaymentRuns", func(t *testing.T, s []Store) { ConcurrentPaymentRuns(t, s...) }},
		{"StatementClose", func(t *testing.T, s []Store) { StatementCloseOnce(t, s...) }},
		{"PaymentDue", func(t *testing.T, s []Store) { PaymentDueOnce(t, s...) }},
		{"Authorise", func(t *testing.T, s []Store) { ConcurrentAuthorise(t, s...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t, 2)) })
	}
}

// as converts the stores to one of the narrower interfaces a check takes.
func as[T any](stores []Store) []T {
	out := make([]T, len(stores))
	for i, s := range stores {
		out[i] = any(s).(T)
	}
	return out
}
