package node

import (
	"testing"
	"time"
)

func TestYieldWaitsForTheWritesInFlight(t *testing.T) {
	w := writeFirst{limit: time.Hour} // a wait too long ends the test
	w.yield()                         // none in flight: returns at once

	w.begin()
	returned := make(chan struct{})
	go func() { w.yield(); close(returned) }()
	select {
	case <-returned:
		t.Fatal("yield returned while a write was in flight")
	case <-time.After(10 * time.Millisecond):
	}
	w.begin() // begun after the yield: not waited for
	w.end()
	<-returned
	w.end()
}

func TestYieldIsBounded(t *testing.T) {
	var w writeFirst
	w.begin()
	start := time.Now()
	w.yield()
	if d := time.Since(start); d < maxYield {
		t.Fatalf("yield returned after %v with a write in flight", d)
	}
}
