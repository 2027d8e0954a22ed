package node

import (
	"bytes"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
)

func nameIn(t *testing.T, n *Node, g entry.ID, a entry.Author) string {
	t.Helper()
	names, err := n.Names(g)
	if err != nil {
		t.Fatal(err)
	}
	return names.Of(a)
}

// A display name is signed into the groups a node writes to — now, and
// before its first entry in a group it joins later — and replicates with
// each; a petname wins over it, here alone; a retracted one gives way to the
// one before; in a private group only members read it.
func TestProfilesAndPetnames(t *testing.T) {
	n := newNode(t, false)
	me := n.Home.Author
	g, err := n.CreateGroup(openGenesis())
	if err != nil {
		t.Fatal(err)
	}
	if got := nameIn(t, n, g, me); got != "" {
		t.Fatalf("a name before any was set: %q", got)
	}
	if _, err := n.SetProfile(home.Profile{Name: "x\ny"}); err == nil {
		t.Fatal("a display name with a control character was accepted")
	}
	res, err := n.SetProfile(home.Profile{Name: "Alice", About: "down the rabbit hole"})
	if err != nil || len(res) != 1 || res[0].Error != "" {
		t.Fatalf("SetProfile: %+v, %v", res, err)
	}
	if got := nameIn(t, n, g, me); got != "Alice" {
		t.Fatalf("name %q, want Alice", got)
	}
	later, err := n.CreateGroup(openGenesis())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Post(later, group.Post{Text: "first"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	if got := nameIn(t, n, later, me); got != "Alice" {
		t.Fatalf("in a group first written to later: %q, want Alice", got)
	}
	log, err := n.Log(later, 0, false)
	if err != nil || log[len(log)-1].AuthorName != "Alice" || log[len(log)-2].Kind != group.KindProfile {
		t.Fatalf("the log: %+v, %v", log, err)
	}

	// Export and import: the name travels with the group.
	other := newNode(t, false)
	var buf bytes.Buffer
	if _, err := n.Export(g, &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Import(&buf); err != nil {
		t.Fatal(err)
	}
	if got := nameIn(t, other, g, me); got != "Alice" {
		t.Fatalf("another node reads %q, want Alice", got)
	}
	if err := other.SetPetname(me, "the white rabbit's friend"); err != nil {
		t.Fatal(err)
	}
	if got := nameIn(t, other, g, me); got != "the white rabbit's friend" {
		t.Fatalf("a petname: %q", got)
	}
	if got := nameIn(t, n, g, me); got != "Alice" {
		t.Fatalf("a petname leaked to another node: %q", got)
	}
	if err := other.SetPetname(me, ""); err != nil {
		t.Fatal(err)
	}

	// A retracted name gives way to the one before.
	res, err = n.SetProfile(home.Profile{Name: "Alice L."})
	if err != nil || nameIn(t, n, g, me) != "Alice L." {
		t.Fatalf("renamed: %+v, %v", res, err)
	}
	var id entry.ID
	for _, r := range res { // in the order of the groups' ids
		if r.Group == g.String() {
			id, _ = entry.ParseID(r.ID)
		}
	}
	if _, err := n.Retract(g, id); err != nil {
		t.Fatal(err)
	}
	if got := nameIn(t, n, g, me); got != "Alice" {
		t.Fatalf("after retracting the new name: %q, want Alice", got)
	}

	// A private group's names are sealed: an outsider holding its entries
	// reads none.
	priv, err := n.CreateGroup(group.Genesis{Name: "private", Write: group.WriteMembers, Read: group.ReadMembers, Quota: group.DefaultQuota})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Post(priv, group.Post{Text: "members only"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	if got := nameIn(t, n, priv, me); got != "Alice L." && got != "Alice" {
		t.Fatalf("a member reads %q", got)
	}
	buf.Reset()
	if _, err := n.Export(priv, &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Import(&buf); err != nil {
		t.Fatal(err)
	}
	if got := nameIn(t, other, priv, me); got != "" {
		t.Fatalf("an outsider reads the name %q in a private group", got)
	}
}
