package cardportaltest

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	c := NewClock(t0)
	c.Add(90 * time.Second)
	if got := c.Now(); !got.Equal(t0.Add(90 * time.Second)) {
		t.Fatalf("Now = %v", got)
	}
}

func TestLogBufferConcurrent(t *testing.T) {
	var l LogBuffer
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { fmt.Fprintf(&l, "%02d\n", i) })
	}
	wg.Wait()
	if n := len(l.String()); n != 60 {
		t.Fatalf("wrote %d bytes, want 60", n)
	}
}
