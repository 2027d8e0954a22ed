package store

import (
	"slices"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

func articleIDs(t *testing.T, s *Store, g entry.ID) []entry.ID {
	t.Helper()
	var ids []entry.ID
	last, err := s.LastArticle(g)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Articles(g, 1, last, false, func(a Article) bool {
		if n, err := s.ArticleNum(g, a.ID); err != nil || n != a.Num {
			t.Fatalf("ArticleNum(%s) = %d, %v; the record says %d", a.ID.Short(), n, err, a.Num)
		}
		ids = append(ids, a.ID)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// Article numbers follow arrival, not the log: an older post that arrives
// late is numbered after those held, and no number moves, across reopening.
func TestArticleNumbersFollowArrival(t *testing.T) {
	fs := vfs.NewMem()
	s := openFS(t, fs)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOpen, group.DefaultQuota)
	b := newAuthor(2)
	late := b.post(t, gen.ID, t0+1, "written first, arrives last")
	p1, p2 := a.post(t, gen.ID, t0+10, "one"), a.post(t, gen.ID, t0+20, "two\nlines\n")
	mustStore(t, s, gen, p1, p2)
	if got := articleIDs(t, s, gen.ID); !slices.Equal(got, []entry.ID{p1.ID, p2.ID}) {
		t.Fatalf("articles %v, want p1 p2", got)
	}
	mustStore(t, s, late)
	want := []entry.ID{p1.ID, p2.ID, late.ID}
	if got := articleIDs(t, s, gen.ID); !slices.Equal(got, want) {
		t.Fatalf("after a late post: %v, want p1 p2 late", got)
	}
	var rec Article
	s.Articles(gen.ID, 2, 2, false, func(a Article) bool { rec = a; return true })
	if rec.TextLines != 2 || rec.TextBytes != 10 || rec.Author != a.id || !rec.Parent.IsZero() || rec.HLC != p2.HLC {
		t.Fatalf("record of p2 %+v", rec)
	}
	var back []uint64
	s.Articles(gen.ID, 1, 3, true, func(a Article) bool { back = append(back, a.Num); return true })
	if !slices.Equal(back, []uint64{3, 2, 1}) {
		t.Fatalf("backward %v", back)
	}
	s.Close()
	s = openFS(t, fs)
	if got := articleIDs(t, s, gen.ID); !slices.Equal(got, want) {
		t.Fatalf("after reopening: %v, want p1 p2 late", got)
	}
	mustStore(t, s, a.post(t, gen.ID, t0+30, "three"))
	if last, _ := s.LastArticle(gen.ID); last != 4 {
		t.Fatalf("next number %d, want 4", last)
	}
}

// A store written before the index existed gets one, in log order, when it
// is opened.
func TestArticleIndexBackfilled(t *testing.T) {
	fs := vfs.NewMem()
	s := openFS(t, fs)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOpen, group.DefaultQuota)
	p1, p2 := a.post(t, gen.ID, t0+10, "one"), a.post(t, gen.ID, t0+20, "two")
	mustStore(t, s, gen, p2, p1)
	for _, tag := range []byte{tagArticle, tagArticleOf, tagArticles} {
		p := key(tag, gen.ID[:])
		if err := s.db.DeleteRange(p, prefixEnd(p), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openFS(t, fs)
	if got := articleIDs(t, s, gen.ID); !slices.Equal(got, []entry.ID{p1.ID, p2.ID}) {
		t.Fatalf("backfilled %v, want p1 p2 (log order)", got)
	}
}
