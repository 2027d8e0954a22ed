package hlc

import "testing"

func TestPacking(t *testing.T) {
	ts := New(1_700_000_000_123, 7)
	if ts.Millis() != 1_700_000_000_123 || ts.Counter() != 7 {
		t.Fatalf("got %d/%d", ts.Millis(), ts.Counter())
	}
	if got := ts.String(); got != "2023-11-14T22:13:20.123Z+7" {
		t.Fatalf("String() = %q", got)
	}
}

func TestClockMonotonic(t *testing.T) {
	var c Clock
	a := c.Now(1000)
	b := c.Now(1000) // same millisecond: counter advances
	d := c.Now(999)  // clock stepped back: still increasing
	if !(a < b && b < d) {
		t.Fatalf("not increasing: %v %v %v", a, b, d)
	}
	if b.Millis() != 1000 || b.Counter() != 1 {
		t.Fatalf("b = %v", b)
	}
	if e := c.Now(2000); e != New(2000, 0) {
		t.Fatalf("physical time ahead should reset the counter, got %v", e)
	}
}

func TestClockObserve(t *testing.T) {
	var c Clock
	c.Observe(New(5000, 3))
	if got := c.Now(1000); got != New(5000, 4) {
		t.Fatalf("after observing a later timestamp, Now = %v", got)
	}
}

func TestCounterCarry(t *testing.T) {
	var c Clock
	c.Observe(New(10, 0xffff))
	if got := c.Now(10); got != New(11, 0) {
		t.Fatalf("counter exhaustion should carry into the millisecond, got %v", got)
	}
}
