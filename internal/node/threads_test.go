package node

import (
	"errors"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

func TestThreadsByLatestActivity(t *testing.T) {
	n := newNode(t, false)
	g, err := n.CreateGroup(openGenesis())
	if err != nil {
		t.Fatal(err)
	}
	post := func(subject string, parent entry.ID) entry.ID {
		t.Helper()
		id, err := n.Post(g, group.Post{Subject: subject, Text: subject}, parent)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a := post("a", entry.ID{})
	b := post("b", entry.ID{})
	c := post("c", entry.ID{})
	ra := post("", a)
	rra := post("", ra) // a is now the latest thread, with two replies
	gone := post("", c)
	if _, err := n.Retract(g, gone); err != nil { // no activity, and not counted
		t.Fatal(err)
	}
	page, err := n.Threads(g, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Threads) != 2 || page.Threads[0].Root.ID != a.String() || page.Threads[1].Root.ID != c.String() || page.Next == "" {
		t.Fatalf("first page %+v", page)
	}
	if page.Threads[0].Replies != 2 || page.Threads[1].Replies != 0 {
		t.Fatalf("replies %d and %d, want 2 and 0", page.Threads[0].Replies, page.Threads[1].Replies)
	}
	rraEntry, _ := n.Store.Get(g, rra)
	if page.Threads[0].Last != rraEntry.HLC {
		t.Fatalf("a's last activity %v, want its reply's %v", page.Threads[0].Last, rraEntry.HLC)
	}
	rest, err := n.Threads(g, 2, page.Next)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Threads) != 1 || rest.Threads[0].Root.ID != b.String() || rest.Next != "" {
		t.Fatalf("second page %+v", rest)
	}
	// New activity moves a thread to the top; the index follows.
	post("", b)
	page, err = n.Threads(g, 10, "")
	if err != nil || page.Threads[0].Root.ID != b.String() || page.Threads[0].Replies != 1 {
		t.Fatalf("after a reply to b: %+v, %v", page, err)
	}
	// A retraction after the index was built rebuilds it.
	if _, err := n.Retract(g, rra); err != nil {
		t.Fatal(err)
	}
	page, err = n.Threads(g, 10, "")
	if err != nil || page.Threads[1].Root.ID != a.String() || page.Threads[1].Replies != 1 {
		t.Fatalf("after retracting a reply to a: %+v, %v", page, err)
	}
	if _, err := n.Threads(g, 10, "12-zz"); !errors.Is(err, ErrCursor) {
		t.Fatalf("a bad cursor: %v", err)
	}
}
