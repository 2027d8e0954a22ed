package group

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/hlc"
)

func key(seed byte) (ed25519.PrivateKey, entry.Author) {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	var a entry.Author
	copy(a[:], k.Public().(ed25519.PublicKey))
	return k, a
}

func newGroup(t *testing.T, write WritePolicy, q Quota) (*Group, ed25519.PrivateKey) {
	t.Helper()
	k, _ := key(1)
	s, err := NewGenesis(Genesis{Name: "demo", Write: write, Read: ReadPublic, Quota: q, Nonce: []byte{1}}, k, hlc.New(1000, 0))
	if err != nil {
		t.Fatal(err)
	}
	d, err := entry.Decode(s.Raw)
	if err != nil {
		t.Fatal(err)
	}
	g, err := FromGenesis(d)
	if err != nil {
		t.Fatal(err)
	}
	return g, k
}

func post(t *testing.T, g *Group, k ed25519.PrivateKey, at int64, text string, refs ...entry.ID) *entry.Signed {
	t.Helper()
	var a entry.Author
	copy(a[:], k.Public().(ed25519.PublicKey))
	body, err := EncodePost(Post{Subject: "s", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	s, err := entry.Sign(entry.Entry{Group: g.ID, Author: a, Seq: 2, HLC: hlc.New(at, 0), Kind: KindPost, Refs: refs, Body: body}, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGenesisRoundTrip(t *testing.T) {
	g, _ := newGroup(t, WriteMembers, DefaultQuota)
	if g.Name != "demo" || g.Write != WriteMembers || g.Read != ReadPublic || g.Quota != DefaultQuota || g.Created != hlc.New(1000, 0) {
		t.Fatalf("genesis changed in a round trip: %+v", g)
	}
}

func TestGenesisValidate(t *testing.T) {
	k, _ := key(1)
	for name, g := range map[string]Genesis{
		"empty name":   {Write: WriteOpen, Read: ReadPublic, Quota: DefaultQuota},
		"control char": {Name: "a\nb", Write: WriteOpen, Read: ReadPublic, Quota: DefaultQuota},
		"bad write":    {Name: "a", Write: "everyone", Read: ReadPublic, Quota: DefaultQuota},
		"bad read":     {Name: "a", Write: WriteOpen, Read: "secret", Quota: DefaultQuota},
		"zero body":    {Name: "a", Write: WriteOpen, Read: ReadPublic},
		"huge body":    {Name: "a", Write: WriteOpen, Read: ReadPublic, Quota: Quota{MaxBody: entry.MaxBody + 1}},
	} {
		if _, err := NewGenesis(g, k, hlc.New(1, 0)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBodyMustBeCanonical(t *testing.T) {
	g, k := newGroup(t, WriteOpen, DefaultQuota)
	s := post(t, g, k, 2000, "hi")
	var a entry.Author
	copy(a[:], k.Public().(ed25519.PublicKey))
	// The same map with its keys in the wrong order: canonical order sorts the
	// encoded keys, so the shorter "text" comes before "subject".
	swapped := []byte{0xa2, 0x67, 's', 'u', 'b', 'j', 'e', 'c', 't', 0x61, 's', 0x64, 't', 'e', 'x', 't', 0x62, 'h', 'i'}
	bad, err := entry.Sign(entry.Entry{Group: g.ID, Author: a, Seq: 3, HLC: s.HLC + 1, Kind: KindPost, Body: swapped}, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckBody(bad); !errors.Is(err, entry.ErrMalformed) {
		t.Fatalf("non-canonical body: %v", err)
	}
	unknown, _ := entry.Sign(entry.Entry{Group: g.ID, Author: a, Seq: 3, HLC: s.HLC + 1, Kind: KindPost, Body: []byte{0xa1, 0x61, 'x', 0x01}}, k)
	if err := CheckBody(unknown); !errors.Is(err, entry.ErrMalformed) {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestAdmit(t *testing.T) {
	small := Quota{MaxBody: 100, EntriesPerDay: 2, BytesPerDay: 10_000}
	open, ownerKey := newGroup(t, WriteOpen, small)
	owned, _ := newGroup(t, WriteOwner, small)
	members, _ := newGroup(t, WriteMembers, small)
	stranger, _ := key(2)
	other, _ := newGroup(t, WriteOpen, DefaultQuota)
	other.ID = entry.ID{9}

	cases := []struct {
		name string
		g    *Group
		s    *entry.Signed
		used Usage
		want error
	}{
		{"open, stranger", open, post(t, open, stranger, 2000, "hi"), Usage{}, nil},
		{"owner policy, owner", owned, post(t, owned, ownerKey, 2000, "hi"), Usage{}, nil},
		{"owner policy, stranger", owned, post(t, owned, stranger, 2000, "hi"), Usage{}, ErrNotAllowed},
		{"members policy, stranger", members, post(t, members, stranger, 2000, "hi"), Usage{}, ErrNotAllowed},
		{"before genesis", open, post(t, open, ownerKey, 1000, "hi"), Usage{}, ErrBeforeGenesis},
		{"body over group cap", open, post(t, open, ownerKey, 2000, string(make([]byte, 100))), Usage{}, entry.ErrTooLarge},
		{"entries quota", open, post(t, open, ownerKey, 2000, "hi"), Usage{Entries: 2}, ErrOverQuota},
		{"bytes quota", open, post(t, open, ownerKey, 2000, "hi"), Usage{Entries: 1, Bytes: 9_990}, ErrOverQuota},
		{"other group", other, post(t, open, ownerKey, 2000, "hi"), Usage{}, ErrUnknownGroup},
	}
	for _, c := range cases {
		err := c.g.Admit(c.s, c.used, grantSet{})
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: Admit = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestPostWithTwoRefs(t *testing.T) {
	g, k := newGroup(t, WriteOpen, DefaultQuota)
	if err := CheckBody(post(t, g, k, 2000, "hi", entry.ID{1}, entry.ID{2})); !errors.Is(err, entry.ErrMalformed) {
		t.Fatalf("CheckBody = %v", err)
	}
}

// grantSet grants membership (and admin rights) from a timestamp on.
type grantSet map[entry.Author]struct {
	at    hlc.Timestamp
	admin bool
}

func (gs grantSet) GrantedBefore(_ entry.ID, a entry.Author, admin bool, at hlc.Timestamp) (bool, error) {
	g, ok := gs[a]
	return ok && g.at < at && (g.admin || !admin), nil
}

func TestAdmitWithGrants(t *testing.T) {
	members, owner := newGroup(t, WriteMembers, DefaultQuota)
	bob, bobID := key(2)
	grants := grantSet{bobID: {at: hlc.New(1500, 0)}}
	if err := members.Admit(post(t, members, bob, 2000, "hi"), Usage{}, grants); err != nil {
		t.Fatalf("a member after its grant: %v", err)
	}
	if err := members.Admit(post(t, members, bob, 1400, "early"), Usage{}, grants); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("a member before its grant: %v", err)
	}
	body, _ := Encode(KindMember, &Member{Op: OpAdd, Author: make([]byte, 32)})
	addBy := func(k ed25519.PrivateKey, a entry.Author) *entry.Signed {
		s, err := entry.Sign(entry.Entry{Group: members.ID, Author: a, Seq: 3, HLC: hlc.New(3000, 0), Kind: KindMember, Body: body}, k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	_, ownerID := key(1)
	if err := members.Admit(addBy(owner, ownerID), Usage{}, grants); err != nil {
		t.Fatalf("the owner adds a member: %v", err)
	}
	if err := members.Admit(addBy(bob, bobID), Usage{}, grants); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("a plain member adds a member: %v", err)
	}
	grants[bobID] = struct {
		at    hlc.Timestamp
		admin bool
	}{hlc.New(1500, 0), true}
	if err := members.Admit(addBy(bob, bobID), Usage{}, grants); err != nil {
		t.Fatalf("an admin adds a member: %v", err)
	}
}

func TestViewBodies(t *testing.T) {
	for _, c := range []struct {
		kind string
		body any
		ok   bool
	}{
		{KindSet, &SetOp{Set: "s", Element: "e", Op: OpAdd}, true},
		{KindSet, &SetOp{Set: "s", Element: "e", Op: "toggle"}, false},
		{KindSet, &SetOp{Set: "", Element: "e", Op: OpAdd}, false},
		{KindDir, &DirOp{Path: "a/b", Op: OpPut, Value: []byte("v")}, true},
		{KindDir, &DirOp{Path: "a/b", Op: OpRm, Value: []byte("v")}, false},
		{KindMember, &Member{Op: OpAdd, Author: make([]byte, 31)}, false},
		{KindMember, &Member{Op: OpRemove, Author: make([]byte, 32), Admin: true}, false},
		{KindHideAuthor, &HideAuthor{Op: OpHide, Author: make([]byte, 32)}, true},
		{KindHideAuthor, &HideAuthor{Op: OpUnhide, Author: make([]byte, 32)}, true},
		{KindHideAuthor, &HideAuthor{Op: OpRemove, Author: make([]byte, 32)}, false},
		{KindHideAuthor, &HideAuthor{Op: OpHide, Author: make([]byte, 33)}, false},
	} {
		if _, err := Encode(c.kind, c.body); (err == nil) != c.ok {
			t.Errorf("%s %+v: %v", c.kind, c.body, err)
		}
	}
}

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"a", "a/b/c", "notes/2026/11.md", "ünïcode/ok"} {
		if err := CheckPath(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range []string{"", "/a", "a/", "a//b", "a/../b", "./a", "a/\x01", "a\nb", string(make([]byte, MaxPath+1))} {
		if err := CheckPath(p); err == nil {
			t.Errorf("%q was accepted", p)
		}
	}
}

func TestCheckClock(t *testing.T) {
	g, k := newGroup(t, WriteOpen, DefaultQuota)
	now := int64(1_000_000_000)
	if err := CheckClock(post(t, g, k, now+MaxSkew.Milliseconds(), "x"), now); err != nil {
		t.Fatalf("at the skew limit: %v", err)
	}
	if err := CheckClock(post(t, g, k, now+MaxSkew.Milliseconds()+1, "x"), now); !errors.Is(err, ErrFuture) {
		t.Fatalf("past the skew limit: %v", err)
	}
}

func TestReplyTo(t *testing.T) {
	g, k := newGroup(t, WriteOpen, DefaultQuota)
	parent := post(t, g, k, 2000, "p")
	if got := ReplyTo(post(t, g, k, 3000, "r", parent.ID)); got != parent.ID {
		t.Fatalf("ReplyTo = %v", got)
	}
	if got := ReplyTo(parent); !got.IsZero() {
		t.Fatalf("a top-level post has no parent, got %v", got)
	}
}

// TestHideAuthorIsForAdmins: in an open group anyone may post, but only the
// owner and admins may hide an author, as only they may hide an entry; a
// hide-author entry carries no refs.
func TestHideAuthorIsForAdmins(t *testing.T) {
	open, owner := newGroup(t, WriteOpen, DefaultQuota)
	_, ownerID := key(1)
	bob, bobID := key(2)
	body, err := Encode(KindHideAuthor, &HideAuthor{Op: OpHide, Author: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	hide := func(k ed25519.PrivateKey, a entry.Author, refs ...entry.ID) *entry.Signed {
		s, err := entry.Sign(entry.Entry{Group: open.ID, Author: a, Seq: 2, HLC: hlc.New(3000, 0), Kind: KindHideAuthor, Refs: refs, Body: body}, k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := CheckBody(hide(owner, ownerID)); err != nil {
		t.Fatalf("a hide-author body: %v", err)
	}
	if err := CheckBody(hide(owner, ownerID, entry.ID{1})); !errors.Is(err, entry.ErrMalformed) {
		t.Fatalf("a hide-author with a ref: %v", err)
	}
	if err := open.Admit(hide(owner, ownerID), Usage{}, grantSet{}); err != nil {
		t.Fatalf("the owner hides an author: %v", err)
	}
	if err := open.Admit(hide(bob, bobID), Usage{}, grantSet{}); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("a stranger hides an author in an open group: %v", err)
	}
	admins := grantSet{bobID: {at: hlc.New(1500, 0), admin: true}}
	if err := open.Admit(hide(bob, bobID), Usage{}, admins); err != nil {
		t.Fatalf("an admin hides an author: %v", err)
	}
}

// TestHideAuthorEncoding pins the canonical bytes docs/protocol.md §4 gives
// for a hide-author body, for a second implementation to check against.
func TestHideAuthorEncoding(t *testing.T) {
	author := make([]byte, 32)
	for i := range author {
		author[i] = byte(i)
	}
	b, err := Encode(KindHideAuthor, &HideAuthor{Op: OpHide, Author: author})
	if err != nil {
		t.Fatal(err)
	}
	const want = "a2626f70646869646566617574686f725820000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("hide-author body %s, want %s", got, want)
	}
}
