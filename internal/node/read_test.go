package node

import (
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
)

// TestLogEntryOfDamagedBodies: an entry admission would refuse (a member
// body without its author, a hide without its ref), read back from a
// damaged store, is an error for the log, not a panic.
func TestLogEntryOfDamagedBodies(t *testing.T) {
	k, a := newKey(3)
	for _, c := range []struct {
		kind string
		body []byte
	}{
		{group.KindMember, []byte{0xa1, 0x62, 'o', 'p', 0x63, 'a', 'd', 'd'}}, // {op: "add"}
		{group.KindMember, []byte{0xff}},
		{group.KindHide, nil},
		{group.KindRetract, nil},
	} {
		e, err := entry.Sign(entry.Entry{Group: entry.ID{1}, Author: a, Seq: 2, HLC: hlc.New(1000, 0), Kind: c.kind, Body: c.body}, k)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := logEntry(e); err == nil {
			t.Errorf("a %s entry with body %x and no refs: no error", c.kind, c.body)
		}
	}
}
