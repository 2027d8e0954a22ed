package store

import (
	"errors"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// TestCapsPauseAGroup: a group that would go beyond the node's cap of
// entries a day is paused at the entry that would: that entry and every
// later one, of any day, is refused and not stored, the pause survives a
// reopen, and resuming lets the rest of that day in; a later day over the
// cap pauses the group again. Another group is not touched.
func TestCapsPauseAGroup(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := newAuthor(1), newAuthor(2)
	gen := a.genesis(t, group.WriteOpen, group.DefaultQuota)
	other := b.genesis(t, group.WriteOpen, group.DefaultQuota)
	mustStore(t, s, gen, other)
	if err := s.SetCaps(gen.ID, Caps{EntriesPerDay: 3}); err != nil {
		t.Fatal(err)
	}
	// Caps count from when they are set: the genesis is not in the day's 3.
	day := int64(24 * 3600 * 1000)
	var posts []*entry.Signed
	for i := range 5 {
		posts = append(posts, a.post(t, gen.ID, t0+int64(i)+1, "p"))
	}
	out := s.Ingest(raws(posts...), t0)
	for i, o := range out {
		if want := i < 3; o.Stored() != want || !want && !errors.Is(o.Err, ErrPaused) {
			t.Fatalf("post %d of a cap of 3: %+v", i, o)
		}
	}
	if n, _ := s.Count(gen.ID); n != 4 {
		t.Fatalf("stored %d entries, want the genesis and 3 posts", n)
	}
	if o := s.Ingest(raws(b.post(t, other.ID, t0+9, "x")), t0)[0]; !o.Stored() {
		t.Fatalf("a group without caps was refused: %+v", o)
	}
	s.Close()
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Paused(gen.ID)
	if err != nil || !p.Active() || p.Over != "entries" || p.Day != group.Day(posts[0].HLC) {
		t.Fatalf("after reopen the pause is %+v, %v", p, err)
	}
	// Paused, nothing is stored, not even of a new day.
	if o := s.Ingest(raws(a.post(t, gen.ID, t0+day, "next day")), t0+day)[0]; !errors.Is(o.Err, ErrPaused) || Reason(o.Err) != "paused" {
		t.Fatalf("a paused group stored an entry: %+v", o)
	}
	if ok, err := s.Resume(gen.ID); !ok || err != nil {
		t.Fatalf("resume: %v, %v", ok, err)
	}
	if ok, _ := s.Resume(gen.ID); ok {
		t.Fatal("a second resume found a pause")
	}
	// Resumed: the rest of the paused day goes in beyond the cap.
	if o := s.Ingest(raws(posts[3], posts[4]), t0); !o[0].Stored() || !o[1].Stored() {
		t.Fatalf("after resume, the paused day: %+v", o)
	}
	// A later day has a cap of its own, and over it the group pauses again.
	a.seq++ // the refused next-day post took a seq
	var next []*entry.Signed
	for i := range 4 {
		next = append(next, a.post(t, gen.ID, t0+day+int64(i)+10, "q"))
	}
	out = s.Ingest(raws(next...), t0+day)
	if !out[2].Stored() || !errors.Is(out[3].Err, ErrPaused) {
		t.Fatalf("the next day, over its cap: %+v", out)
	}
	// Removing the caps removes the pause.
	if err := s.SetCaps(gen.ID, Caps{}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Paused(gen.ID); p.Active() {
		t.Fatal("removing the caps left the group paused")
	}
	if o := s.Ingest(raws(next[3]), t0+day)[0]; !o.Stored() {
		t.Fatalf("without caps: %+v", o)
	}
}

// TestBytesCap: the cap of bytes a day counts the entries' encoded size.
func TestBytesCap(t *testing.T) {
	s := memStore(t)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOpen, group.DefaultQuota)
	mustStore(t, s, gen)
	p1, p2 := a.post(t, gen.ID, t0+1, "one"), a.post(t, gen.ID, t0+2, "two")
	if err := s.SetCaps(gen.ID, Caps{BytesPerDay: uint64(len(p1.Raw) + len(p2.Raw) - 1)}); err != nil {
		t.Fatal(err)
	}
	out := s.Ingest(raws(p1, p2), t0)
	if !out[0].Stored() || !errors.Is(out[1].Err, ErrPaused) {
		t.Fatalf("a byte short of two posts: %+v", out)
	}
	if p, _ := s.Paused(gen.ID); p.Over != "bytes" {
		t.Fatalf("pause %+v, want over bytes", p)
	}
}
