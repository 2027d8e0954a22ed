package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"

	"github.com/cockroachdb/pebble/v2"
)

// Caps are an operator's limits on what one group may add to this node in a
// day (the quota day of the entries' hlc, as for the group's own per-author
// quotas), whoever writes it. They are this node's, not the group's: a group
// that goes beyond them is paused here, and only here. Zero is no limit.
type Caps struct {
	EntriesPerDay uint32
	BytesPerDay   uint64
}

// IsZero reports whether the caps limit nothing.
func (c Caps) IsZero() bool { return c == Caps{} }

// Pause is a group paused on this node: on Day it reached Over, the cap
// it would have gone beyond, at AtMs. A paused group is neither replicated
// nor forwarded, and nothing more of it is stored, until the operator
// resumes it (Resume). Resumed marks a pause lifted: the rest of its Day
// may go beyond the caps; a later day that does pauses the group again.
type Pause struct {
	Day     uint32
	AtMs    int64
	Over    string // "entries" or "bytes"
	Resumed bool
}

// Active reports whether the pause holds.
func (p Pause) Active() bool { return p.AtMs != 0 && !p.Resumed }

// ErrPaused marks an entry of a group this node paused.
var ErrPaused = errors.New("group paused on this node")

// capsLen and pauseLen are the encoded lengths of Caps and Pause.
const (
	capsLen  = 4 + 8
	pauseLen = 4 + 8 + 1 + 1
)

func encodeCaps(c Caps) []byte {
	return binary.BigEndian.AppendUint64(u32(c.EntriesPerDay), c.BytesPerDay)
}

func encodePause(p Pause) []byte {
	b := binary.BigEndian.AppendUint64(u32(p.Day), uint64(p.AtMs))
	over := byte(overEntries)
	if p.Over == "bytes" {
		over = overBytes
	}
	resumed := byte(0)
	if p.Resumed {
		resumed = 1
	}
	return append(b, over, resumed)
}

const (
	overEntries = 'e'
	overBytes   = 'b'
)

// Caps returns the caps set on a group; zero when none are.
func (s *Store) Caps(g entry.ID) (Caps, error) {
	v, err := s.get(key(tagCaps, g[:]))
	if errors.Is(err, ErrNotFound) {
		return Caps{}, nil
	}
	if err != nil {
		return Caps{}, err
	}
	if len(v) != capsLen {
		return Caps{}, fmt.Errorf("%w: caps of %s", ErrCorrupt, g.Short())
	}
	return Caps{EntriesPerDay: binary.BigEndian.Uint32(v), BytesPerDay: binary.BigEndian.Uint64(v[4:])}, nil
}

// SetCaps sets a group's caps, durably; zero caps remove them (and a
// pause with them).
func (s *Store) SetCaps(g entry.ID, c Caps) error {
	if _, err := s.Group(g); err != nil {
		return err
	}
	s.mu.Lock() // against a Commit that pauses the group meanwhile
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	var err error
	if c.IsZero() {
		err = errors.Join(b.Delete(key(tagCaps, g[:]), nil), b.Delete(key(tagPause, g[:]), nil))
	} else {
		err = b.Set(key(tagCaps, g[:]), encodeCaps(c), nil)
	}
	if err != nil {
		return err
	}
	return s.durably(func() error { return b.Commit(pebble.Sync) })
}

// Paused returns a group's last pause, lifted or not; zero when it never
// was paused.
func (s *Store) Paused(g entry.ID) (Pause, error) {
	v, err := s.get(key(tagPause, g[:]))
	if errors.Is(err, ErrNotFound) {
		return Pause{}, nil
	}
	if err != nil {
		return Pause{}, err
	}
	return decodePause(g, v)
}

func decodePause(g entry.ID, v []byte) (Pause, error) {
	if len(v) != pauseLen || (v[12] != overEntries && v[12] != overBytes) || v[13] > 1 {
		return Pause{}, fmt.Errorf("%w: pause of %s", ErrCorrupt, g.Short())
	}
	p := Pause{Day: binary.BigEndian.Uint32(v), AtMs: int64(binary.BigEndian.Uint64(v[4:])), Over: "entries", Resumed: v[13] == 1}
	if v[12] == overBytes {
		p.Over = "bytes"
	}
	return p, nil
}

// Resume lifts a group's pause, durably, and reports whether there was one.
func (s *Store) Resume(g entry.ID) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.Paused(g)
	if err != nil || !p.Active() {
		return false, err
	}
	p.Resumed = true
	return true, s.durably(func() error { return s.db.Set(key(tagPause, g[:]), encodePause(p), pebble.Sync) })
}

// capState is a group's caps and pause as one commit sees them.
type capState struct {
	caps    Caps
	pause   Pause
	changed bool // the commit paused the group: its pause is written
}

// capOf loads a group's caps and pause once per commit.
func (c *commit) capOf(gid entry.ID) (*capState, error) {
	if cs, ok := c.caps[gid]; ok {
		return cs, nil
	}
	caps, err := c.s.Caps(gid)
	if err != nil {
		return nil, err
	}
	cs := &capState{caps: caps}
	if !caps.IsZero() {
		if cs.pause, err = c.s.Paused(gid); err != nil {
			return nil, err
		}
	}
	c.caps[gid] = cs
	return cs, nil
}

// capUse is a group's usage of one day, for a group with caps.
type capUse struct {
	key  string // "" when the group has no caps
	used group.Usage
}

// checkCaps refuses an entry of a paused group, and pauses a group the
// entry would take beyond its caps for the entry's day. It returns the
// group's usage of that day, to count the entry in once it is stored.
func (c *commit) checkCaps(gid entry.ID, e *entry.Signed) (capUse, error) {
	cs, err := c.capOf(gid)
	if err != nil || cs.caps.IsZero() {
		return capUse{}, err
	}
	if cs.pause.Active() {
		return capUse{}, fmt.Errorf("%w since %s, over its cap of %s a day",
			ErrPaused, time.UnixMilli(cs.pause.AtMs).UTC().Format(time.RFC3339), capText(cs.caps, cs.pause.Over))
	}
	day := group.Day(e.HLC)
	use := capUse{key: string(key(tagGroupUsage, gid[:], u32(day)))}
	if use.used, err = c.used(use.key); err != nil {
		return capUse{}, err
	}
	if cs.pause.Resumed && cs.pause.Day == day {
		return use, nil
	}
	over := ""
	switch {
	case cs.caps.EntriesPerDay > 0 && use.used.Entries >= cs.caps.EntriesPerDay:
		over = "entries"
	case cs.caps.BytesPerDay > 0 && use.used.Bytes+uint64(len(e.Raw)) > cs.caps.BytesPerDay:
		over = "bytes"
	}
	if over == "" {
		return use, nil
	}
	cs.pause = Pause{Day: day, AtMs: c.nowMs, Over: over}
	cs.changed = true
	return capUse{}, fmt.Errorf("%w now: it reached its cap of %s a day", ErrPaused, capText(cs.caps, over))
}

func capText(c Caps, over string) string {
	if over == "bytes" {
		return fmt.Sprintf("%d bytes", c.BytesPerDay)
	}
	return fmt.Sprintf("%d entries", c.EntriesPerDay)
}

// count adds a stored entry to its group's usage of the day.
func (u capUse) count(c *commit, e *entry.Signed) {
	if u.key != "" {
		c.usage[u.key] = group.Usage{Entries: u.used.Entries + 1, Bytes: u.used.Bytes + uint64(len(e.Raw))}
	}
}

// pauses writes the pauses this commit made.
func (c *commit) pauses() {
	for gid, cs := range c.caps {
		if cs.changed {
			c.set(key(tagPause, gid[:]), encodePause(cs.pause))
		}
	}
}

// paused reports whether this commit paused a group.
func (c *commit) paused() bool {
	for _, cs := range c.caps {
		if cs.changed {
			return true
		}
	}
	return false
}
