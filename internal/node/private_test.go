package node

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

func texts(t *testing.T, n *Node, g entry.ID) []string {
	t.Helper()
	log, err := n.Log(g, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range log {
		if l.Kind == group.KindPost {
			out = append(out, l.Text)
		}
	}
	return out
}

func TestPrivateGroup(t *testing.T) {
	clock := now
	owner, member, outsider := clockedNode(t, &clock), clockedNode(t, &clock), clockedNode(t, &clock)
	gen := openGenesis()
	gen.Read = group.ReadMembers
	g, err := owner.CreateGroup(gen)
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)
	if _, err := owner.SetMember(g, member.Home.Author, true, false); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)
	owner.Post(g, group.Post{Subject: "s", Text: "for members only"}, entry.ID{})
	owner.SetOp(g, "secrets", "plans", true)
	share(t, owner, g, member, outsider)

	if got := texts(t, member, g); !slices.Equal(got, []string{"for members only"}) {
		t.Fatalf("the member reads %v", got)
	}
	if v, _ := member.View(g); len(must(v.Set("secrets"))) != 1 {
		t.Fatal("the member does not see the set")
	}
	if got := texts(t, outsider, g); len(got) != 0 {
		t.Fatalf("the outsider reads %v", got)
	}
	if digest(t, outsider, g) != digest(t, owner, g) {
		t.Fatal("the outsider does not hold the same entries")
	}
	all, _ := outsider.Log(g, 0, true)
	for _, l := range all {
		if strings.Contains(l.Text+l.Subject+l.Summary, "members only") || l.Kind == group.KindPost {
			t.Fatalf("plaintext reached the outsider: %+v", l)
		}
	}
	if _, err := outsider.Post(g, group.Post{Text: "x"}, entry.ID{}); !errors.Is(err, group.ErrNotAllowed) {
		t.Fatalf("an outsider writes: %v", err)
	}

	// The member writes; then is removed; what follows is sealed under a new key.
	clock = clock.Add(time.Second)
	if _, err := member.Post(g, group.Post{Text: "from the member"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	share(t, member, g, owner)
	clock = clock.Add(time.Second)
	if _, err := owner.SetMember(g, member.Home.Author, false, false); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)
	owner.Post(g, group.Post{Text: "after the removal"}, entry.ID{})
	share(t, owner, g, member)
	if got := texts(t, member, g); slices.Contains(got, "after the removal") || !slices.Contains(got, "from the member") {
		t.Fatalf("the removed member reads %v", got)
	}
	if got := texts(t, owner, g); !slices.Equal(got, []string{"for members only", "from the member", "after the removal"}) {
		t.Fatalf("the owner reads %v", got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestKeyArrivingLate: sealed entries that arrive before the key that opens
// them become readable once it arrives.
func TestKeyArrivingLate(t *testing.T) {
	clock := now
	owner, member := clockedNode(t, &clock), clockedNode(t, &clock)
	gen := openGenesis()
	gen.Read = group.ReadMembers
	g, _ := owner.CreateGroup(gen)
	clock = clock.Add(time.Second)
	owner.SetMember(g, member.Home.Author, true, false)
	clock = clock.Add(time.Second)
	post, _ := owner.Post(g, group.Post{Text: "early"}, entry.ID{})
	var keys, rest [][]byte
	owner.Store.Log(g, func(e *entry.Signed) bool {
		if e.Kind == group.KindKey {
			keys = append(keys, e.Raw)
		} else {
			rest = append(rest, e.Raw)
		}
		return true
	})
	ingestEach(t, member, rest)
	if got := texts(t, member, g); len(got) != 0 {
		t.Fatalf("read without a key: %v", got)
	}
	ingestEach(t, member, keys)
	v, _ := member.View(g)
	if root, err := v.Thread(post); err != nil || root.Post.Text != "early" {
		t.Fatalf("after the key arrived: %v", err)
	}
}
