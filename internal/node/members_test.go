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

// TestHideAuthorOfAnEquivocator: carol equivocates in an open group. bob,
// an admin, hides her; dave, no admin, cannot. Replicas that learn of the
// hide before her entries or after them store the same entries (her later
// ones too: a hide does not stop admission) and show the same views, every
// entry of hers hidden; group info names her as a hidden equivocator; the
// owner's unhide shows her again.
func TestHideAuthorOfAnEquivocator(t *testing.T) {
	clock := now
	alice, bob, carol, dave := clockedNode(t, &clock), clockedNode(t, &clock), clockedNode(t, &clock), clockedNode(t, &clock)
	gen := openGenesis()
	gen.Write = group.WriteOpen
	g, _ := alice.CreateGroup(gen)
	clock = clock.Add(time.Second)
	grant, _ := alice.SetMember(g, bob.Home.Author, true, true)
	share(t, alice, g, bob, carol, dave)
	clock = clock.Add(time.Second)
	first, _ := carol.Post(g, group.Post{Text: "one story"}, entry.ID{})
	told, _ := carol.Store.Get(g, first)
	forkBody, _ := group.EncodePost(group.Post{Text: "another story"})
	fork, err := entry.Sign(entry.Entry{Group: g, Author: carol.Home.Author, Seq: told.Seq, HLC: told.HLC + 1, Kind: group.KindPost, Body: forkBody}, carol.Home.Key)
	if err != nil {
		t.Fatal(err)
	}
	ingestEach(t, carol, [][]byte{fork.Raw})
	share(t, carol, g, bob, dave)
	if _, err := dave.HideAuthor(g, carol.Home.Author, true); !errors.Is(err, group.ErrNotAllowed) {
		t.Fatalf("a non-admin hides an author: %v", err)
	}
	if _, err := bob.HideAuthor(g, alice.Home.Author, true); err == nil || !strings.Contains(err.Error(), "owner") {
		t.Fatalf("an admin hides the owner: %v", err)
	}
	clock = clock.Add(time.Second)
	hide, err := bob.HideAuthor(g, carol.Home.Author, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.HideAuthor(g, carol.Home.Author, true); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("hiding a hidden author again: %v", err)
	}
	clock = clock.Add(time.Second)
	late, err := carol.Post(g, group.Post{Text: "after the hide, unseen"}, entry.ID{})
	if err != nil {
		t.Fatal(err)
	}
	carols := append(rawOf(t, carol, g, first, late), fork.Raw)
	base := rawOf(t, alice, g, g, grant)
	hides := rawOf(t, bob, g, hide)
	var digests []string
	var r *Node
	for _, batches := range [][][][]byte{{base, hides, carols}, {base, carols, hides}} {
		r = newNode(t, false)
		for _, b := range batches {
			ingestEach(t, r, b)
		}
		log, err := r.Log(g, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		hidden := 0
		for _, l := range log {
			if l.Author == carol.Home.Author.String() {
				if l.Status != view.Hidden {
					t.Fatalf("carol's %q has status %q", l.Text, l.Status)
				}
				hidden++
			}
		}
		if hidden != 3 { // both forks and the late post
			t.Fatalf("%d of carol's entries hidden, want 3", hidden)
		}
		info, err := r.GroupInfo(mustGroup(t, r, g))
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Equivs) != 1 || !info.Equivs[0].Hidden || len(info.Hidden) != 1 ||
			info.Hidden[0] != (HiddenAuthorInfo{Author: carol.Home.Author.String(), By: bob.Home.Author.String(), Entry: hide.String()}) {
			t.Fatalf("group info: equivocators %+v, hidden %+v", info.Equivs, info.Hidden)
		}
		digests = append(digests, info.Digest)
	}
	if digests[0] != digests[1] {
		t.Fatal("replicas differ")
	}
	clock = clock.Add(time.Second)
	share(t, r, g, alice)
	if _, err := alice.HideAuthor(g, carol.Home.Author, false); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.HideAuthor(g, carol.Home.Author, false); err == nil || !strings.Contains(err.Error(), "not hidden") {
		t.Fatalf("unhiding an author not hidden: %v", err)
	}
	log, _ := alice.Log(g, 0, false)
	var texts []string
	for _, l := range log {
		if l.Author == carol.Home.Author.String() && l.Kind == group.KindPost {
			texts = append(texts, l.Text)
		}
	}
	if len(texts) != 3 {
		t.Fatalf("after the unhide carol's posts in the log: %q", texts)
	}
}
