// Package hlc implements the hybrid logical clock that orders entries.
//
// A Timestamp packs 48 bits of Unix milliseconds above a 16-bit logical
// counter, so timestamps compare as plain integers and stay close to wall
// time while never going backwards (Kulkarni et al., "Logical Physical
// Clocks", OPODIS 2014). The clock reads no time itself: the caller passes
// the physical time in, so tests and the simulator control it.
package hlc

import (
	"fmt"
	"time"
)

// Timestamp is a hybrid logical clock value: Unix milliseconds << 16 | counter.
type Timestamp uint64

// MaxMillis is the largest physical time a Timestamp can carry (48 bits).
const MaxMillis = 1<<48 - 1

// New packs a physical time in Unix milliseconds and a logical counter.
// REQUIRES: 0 <= ms <= MaxMillis.
func New(ms int64, counter uint16) Timestamp {
	return Timestamp(uint64(ms)<<16 | uint64(counter))
}

// FromTime is the timestamp of t with a zero counter.
func FromTime(t time.Time) Timestamp { return New(t.UnixMilli(), 0) }

// Millis is the physical part: Unix milliseconds.
func (t Timestamp) Millis() int64 { return int64(t >> 16) }

// Counter is the logical part.
func (t Timestamp) Counter() uint16 { return uint16(t) }

// Time is the physical part as a UTC time.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.Millis()).UTC() }

// String renders the timestamp as RFC 3339 milliseconds plus the counter.
func (t Timestamp) String() string {
	return fmt.Sprintf("%s+%d", t.Time().Format("2006-01-02T15:04:05.000Z"), t.Counter())
}

// Clock issues timestamps that are strictly increasing and greater than
// every timestamp it has observed. The zero value is ready to use.
type Clock struct {
	last Timestamp
}

// Now returns a new timestamp for a local event at physical time nowMs.
// If the physical clock is behind what was already issued or observed, the
// counter advances instead; when the counter is exhausted the physical part
// is carried forward by one millisecond.
func (c *Clock) Now(nowMs int64) Timestamp {
	next := New(nowMs, 0)
	if next <= c.last {
		next = c.last + 1
	}
	c.last = next
	return next
}

// Observe records a timestamp seen on a received entry, so that the next
// local timestamp orders after it (causality: a reply sorts after its parent).
func (c *Clock) Observe(t Timestamp) {
	if t > c.last {
		c.last = t
	}
}

// Last is the greatest timestamp issued or observed.
func (c *Clock) Last() Timestamp { return c.last }
