package node

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/view"
)

// share copies every entry of a group from one node to others, as an
// export and import would.
func share(t *testing.T, from *Node, g entry.ID, to ...*Node) {
	t.Helper()
	var raws [][]byte
	from.Store.Log(g, func(e *entry.Signed) bool { raws = append(raws, e.Raw); return true })
	for _, n := range to {
		for _, o := range n.Store.Ingest(raws, now.Add(time.Hour).UnixMilli()) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
		}
		if err := n.unsealAll(); err != nil { // as Import does
			t.Fatal(err)
		}
	}
}

func TestMembersPolicy(t *testing.T) {
	clock := now
	alice, bob, carol := clockedNode(t, &clock), clockedNode(t, &clock), clockedNode(t, &clock)
	g, _ := alice.CreateGroup(openGenesis()) // write: members
	share(t, alice, g, bob, carol)

	_, err := bob.Post(g, group.Post{Text: "let me in"}, entry.ID{})
	if !errors.Is(err, group.ErrNotAllowed) || !strings.Contains(err.Error(), "not a member") {
		t.Fatalf("a non-member's post: %v", err)
	}
	clock = clock.Add(time.Second)
	if _, err := alice.SetMember(g, bob.Home.Author, true, false); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SetMember(g, carol.Home.Author, true, true); err != nil {
		t.Fatal(err)
	}
	share(t, alice, g, bob, carol)
	clock = clock.Add(time.Second)
	if _, err := bob.Post(g, group.Post{Text: "in"}, entry.ID{}); err != nil {
		t.Fatalf("a member's post: %v", err)
	}
	if _, err := bob.SetMember(g, carol.Home.Author, false, false); !errors.Is(err, group.ErrNotAllowed) {
		t.Fatalf("a plain member manages members: %v", err)
	}
	dave := clockedNode(t, &clock)
	if _, err := carol.SetMember(g, dave.Home.Author, true, false); err != nil {
		t.Fatalf("an admin adds a member: %v", err)
	}
	share(t, carol, g, dave)
	clock = clock.Add(time.Second)
	if _, err := dave.Post(g, group.Post{Text: "added by an admin"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	info, _ := dave.GroupInfo(mustGroup(t, dave, g))
	var members []string
	for _, m := range info.Members {
		members = append(members, m.Author[:8])
	}
	want := []string{alice.Home.Author.String()[:8]}
	for _, n := range []*Node{bob, carol, dave} {
		want = append(want, n.Home.Author.String()[:8])
	}
	slices.Sort(want[1:])
	if !slices.Equal(members, want) {
		t.Fatalf("members %v, want %v", members, want)
	}
}

// TestRemovalTakesEffectWhateverTheOrder: bob, a member, writes after a
// removal he has not seen. Replicas that learn of the removal before or
// after bob's entries store the same entries and show the same views, with
// bob's late entries invalid.
func TestRemovalTakesEffectWhateverTheOrder(t *testing.T) {
	clock := now
	alice, bob := clockedNode(t, &clock), clockedNode(t, &clock)
	g, _ := alice.CreateGroup(openGenesis())
	clock = clock.Add(time.Second)
	added, _ := alice.SetMember(g, bob.Home.Author, true, false)
	share(t, alice, g, bob)
	clock = clock.Add(time.Second)
	early, _ := bob.SetOp(g, "s", "early", true)
	clock = clock.Add(time.Second)
	removal, _ := alice.SetMember(g, bob.Home.Author, false, false)
	clock = clock.Add(time.Second)
	late, err := bob.SetOp(g, "s", "late", true)
	if err != nil {
		t.Fatal(err)
	}
	post, _ := bob.Post(g, group.Post{Text: "after my removal"}, entry.ID{})

	base := rawOf(t, alice, g, g, added)
	bobs := rawOf(t, bob, g, early, late, post)
	rem := rawOf(t, alice, g, removal)
	var digests []string
	for _, batches := range [][][][]byte{{base, rem, bobs}, {base, bobs, rem}} {
		r := newNode(t, false)
		for _, b := range batches {
			ingestEach(t, r, b)
		}
		if got := setList(t, r, g, "s"); !slices.Equal(got, []string{"early"}) {
			t.Fatalf("set after removal: %v", got)
		}
		log, _ := r.Log(g, 0, true)
		if st := log[len(log)-1].Status; st != view.Invalid {
			t.Fatalf("bob's post after his removal has status %q", st)
		}
		digests = append(digests, digest(t, r, g))
	}
	if digests[0] != digests[1] {
		t.Fatal("replicas differ")
	}
}

func TestRetractAndHide(t *testing.T) {
	clock := now
	alice, bob := clockedNode(t, &clock), clockedNode(t, &clock)
	gen := openGenesis()
	gen.Write = group.WriteOpen
	g, _ := alice.CreateGroup(gen)
	share(t, alice, g, bob)
	clock = clock.Add(time.Second)
	mine, _ := alice.Post(g, group.Post{Text: "oops"}, entry.ID{})
	spam, _ := bob.Post(g, group.Post{Text: "spam"}, entry.ID{})
	share(t, bob, g, alice)
	share(t, alice, g, bob)
	if _, err := bob.Retract(g, mine); !errors.Is(err, ErrNotYours) {
		t.Fatalf("retracting another's post: %v", err)
	}
	if _, err := bob.Hide(g, mine); !errors.Is(err, group.ErrNotAllowed) {
		t.Fatalf("a non-admin hides: %v", err)
	}
	clock = clock.Add(time.Second)
	if _, err := alice.Retract(g, mine); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Hide(g, spam); err != nil {
		t.Fatal(err)
	}
	log, _ := alice.Log(g, 0, false)
	for _, l := range log {
		if l.Text == "oops" || l.Text == "spam" {
			t.Fatalf("a withdrawn post is in the log: %+v", l)
		}
	}
	all, _ := alice.Log(g, 0, true)
	statuses := map[string]view.Status{}
	for _, l := range all {
		statuses[l.Text] = l.Status
	}
	if statuses["oops"] != view.Retracted || statuses["spam"] != view.Hidden {
		t.Fatalf("--all statuses: %v", statuses)
	}
}
