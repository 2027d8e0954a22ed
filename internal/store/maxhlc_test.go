package store

import (
	"fmt"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// TestMaxHLCCoversWhatCanBeRead: a reader that finds an entry in the store
// finds MaxHLC at or past its hlc, so a write made after reading it (the
// node's clock observes MaxHLC) orders after it. Before, MaxHLC was raised
// after the commit, and a reader between the two saw the entry but not
// its time: a post on a slow clock came out equal to the one it followed.
func TestMaxHLCCoversWhatCanBeRead(t *testing.T) {
	s := memStore(t)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOpen, group.DefaultQuota)
	mustStore(t, s, gen)
	const n = 500
	posts := make([]*entry.Signed, n)
	for i := range posts {
		posts[i] = a.post(t, gen.ID, t0+int64(i+1)*1000, fmt.Sprint(i))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, p := range posts {
			s.Ingest(raws(p), t0+int64(n+1)*1000)
		}
	}()
	early := 0
	for _, p := range posts {
		for {
			if _, err := s.Get(gen.ID, p.ID); err == nil {
				break
			}
		}
		if s.MaxHLC() < p.HLC {
			early++
		}
	}
	<-done
	if early > 0 {
		t.Fatalf("%d of %d entries readable before MaxHLC reached them", early, n)
	}
}
