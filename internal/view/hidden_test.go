package view

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
)

// memReader is a Reader over keys held in memory, scanned in key order.
type memReader struct {
	keys    map[string][]byte
	entries map[entry.ID]*entry.Signed
}

func (r *memReader) Scan(p []byte, fn func(key, value []byte) bool) error {
	var ks []string
	for k := range r.keys {
		if strings.HasPrefix(k, string(p)) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	for _, k := range ks {
		if !fn([]byte(k), r.keys[k]) {
			break
		}
	}
	return nil
}

func (r *memReader) Entry(id entry.ID) (*entry.Signed, error) {
	if e, ok := r.entries[id]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("no entry %s", id.Short())
}

// writer signs entries of one author into a group.
type writer struct {
	key ed25519.PrivateKey
	id  entry.Author
}

func newWriter(seed byte) writer {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	var a entry.Author
	copy(a[:], k.Public().(ed25519.PublicKey))
	return writer{k, a}
}

const base = int64(1_800_000_000_000)

func (w writer) sign(t *testing.T, g *group.Group, seq uint64, ms int64, kind string, body any) *entry.Signed {
	t.Helper()
	var b []byte
	var err error
	if p, ok := body.(group.Post); ok {
		b, err = group.EncodePost(p)
	} else {
		b, err = group.Encode(kind, body)
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := entry.Sign(entry.Entry{Group: g.ID, Author: w.id, Seq: seq, HLC: hlc.New(base+ms, 0), Kind: kind, Body: b}, w.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hideAuthor(op string, a entry.Author) *group.HideAuthor {
	return &group.HideAuthor{Op: op, Author: a[:]}
}

func openGroup(t *testing.T, owner writer) *group.Group {
	t.Helper()
	s, err := group.NewGenesis(group.Genesis{Name: "open", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota}, owner.key, hlc.New(base, 0))
	if err != nil {
		t.Fatal(err)
	}
	d, err := entry.Decode(s.Raw)
	if err != nil {
		t.Fatal(err)
	}
	g, err := group.FromGenesis(d)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// outcome is what a view says of the probes: the hidden authors and each
// probe's status.
func outcome(t *testing.T, g *group.Group, applied []*entry.Signed, probes []*entry.Signed) string {
	t.Helper()
	r := &memReader{keys: map[string][]byte{}, entries: map[entry.ID]*entry.Signed{}}
	for _, e := range applied {
		r.entries[e.ID] = e
		if err := Apply(g.ID, e, func(k, v []byte) { r.keys[string(k)] = slices.Clone(v) }); err != nil {
			t.Fatal(err)
		}
	}
	v, err := Open(r, g)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, h := range v.HiddenAuthors() {
		fmt.Fprintf(&b, "hidden %s by %s at %s; ", h.Author.Short(), h.By.Short(), h.At.ID.Short())
	}
	for _, p := range probes {
		fmt.Fprintf(&b, "%s:%q ", p.ID.Short(), v.StatusOf(p.Author, PosOf(p)))
	}
	return b.String()
}

func eachOrder(n int, fn func([]int)) {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	var walk func(k int)
	walk = func(k int) {
		if k == n {
			fn(order)
			return
		}
		for i := k; i < n; i++ {
			order[k], order[i] = order[i], order[k]
			walk(k + 1)
			order[k], order[i] = order[i], order[k]
		}
	}
	walk(0)
}

// TestHideAuthor: in an open group carol equivocates (two posts with one
// seq); an admin's hide-author hides both, and every other entry of hers,
// earlier or later; a non-admin's, an admin's from before its grant and one
// about the owner change nothing; a later unhide lifts it, a later hide
// again hides her. Each case is applied in every order (up to 7! = 5,040)
// and gives one view; a probe may be an entry not applied (its status is
// asked all the same, as for an entry a replica is told of).
func TestHideAuthor(t *testing.T) {
	owner, bob, carol, dave := newWriter(1), newWriter(2), newWriter(3), newWriter(4)
	g := openGroup(t, owner)
	grant := owner.sign(t, g, 2, 20, group.KindMember, &group.Member{Op: group.OpAdd, Author: bob.id[:], Admin: true})
	early := bob.sign(t, g, 1, 15, group.KindHideAuthor, hideAuthor(group.OpHide, carol.id)) // bob is no admin yet
	forkA := carol.sign(t, g, 1, 30, group.KindPost, group.Post{Text: "a"})
	forkB := carol.sign(t, g, 1, 31, group.KindPost, group.Post{Text: "b"})
	byDave := dave.sign(t, g, 1, 35, group.KindHideAuthor, hideAuthor(group.OpHide, carol.id)) // dave is no admin
	davePost := dave.sign(t, g, 2, 36, group.KindPost, group.Post{Text: "d"})
	hide := bob.sign(t, g, 2, 40, group.KindHideAuthor, hideAuthor(group.OpHide, carol.id))
	ofOwner := bob.sign(t, g, 3, 45, group.KindHideAuthor, hideAuthor(group.OpHide, owner.id))
	ownerPost := owner.sign(t, g, 3, 46, group.KindPost, group.Post{Text: "o"})
	late := carol.sign(t, g, 2, 60, group.KindPost, group.Post{Text: "after the hide"})
	unhide := owner.sign(t, g, 4, 50, group.KindHideAuthor, hideAuthor(group.OpUnhide, carol.id))
	again := bob.sign(t, g, 4, 70, group.KindHideAuthor, hideAuthor(group.OpHide, carol.id))
	probes := []*entry.Signed{forkA, forkB, late, davePost, ownerPost}

	for _, c := range []struct {
		name    string
		entries []*entry.Signed
		hidden  *entry.Signed // the deciding hide, nil for none
	}{
		{"no admin's hide", []*entry.Signed{grant, early, forkA, byDave, ofOwner, ownerPost, late}, nil},
		{"an admin's hide", []*entry.Signed{grant, forkA, forkB, byDave, hide, late, davePost}, hide},
		{"hide, then unhide", []*entry.Signed{grant, forkA, forkB, hide, unhide, late}, nil},
		{"hide, unhide, hide", []*entry.Signed{grant, forkA, hide, unhide, again, late}, again},
	} {
		want := ""
		if c.hidden != nil {
			want = fmt.Sprintf("hidden %s by %s at %s; ", carol.id.Short(), bob.id.Short(), c.hidden.ID.Short())
		}
		carolStatus := map[bool]Status{true: Hidden, false: Visible}[c.hidden != nil]
		for _, p := range probes {
			st := Visible
			if p.Author == carol.id {
				st = carolStatus
			}
			want += fmt.Sprintf("%s:%q ", p.ID.Short(), st)
		}
		eachOrder(len(c.entries), func(order []int) {
			applied := make([]*entry.Signed, len(order))
			for i, j := range order {
				applied[i] = c.entries[j]
			}
			if got := outcome(t, g, applied, probes); got != want {
				t.Fatalf("%s, applied in order %v:\n got  %s\n want %s", c.name, order, got, want)
			}
		})
	}
}
