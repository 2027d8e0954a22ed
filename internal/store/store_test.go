package store

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"

	"github.com/cockroachdb/pebble/v2/vfs"
	"lukechampine.com/blake3"
)

const t0 = int64(1_767_225_600_000) // 2026-01-01

func memStore(t testing.TB) *Store {
	t.Helper()
	return openFS(t, vfs.NewMem())
}

func openFS(t testing.TB, fs vfs.FS) *Store {
	t.Helper()
	s, err := Open("db", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type author struct {
	key ed25519.PrivateKey
	id  entry.Author
	seq uint64
}

func newAuthor(seed byte) *author {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	a := &author{key: k, seq: 1}
	copy(a.id[:], k.Public().(ed25519.PublicKey))
	return a
}

func (a *author) genesis(t testing.TB, write group.WritePolicy, q group.Quota) *entry.Signed {
	t.Helper()
	s, err := group.NewGenesis(group.Genesis{Name: "g", Write: write, Read: group.ReadPublic, Quota: q}, a.key, hlc.New(t0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (a *author) post(t testing.TB, g entry.ID, at int64, text string) *entry.Signed {
	t.Helper()
	a.seq++
	return a.postSeq(t, g, a.seq, at, text)
}

func (a *author) postSeq(t testing.TB, g entry.ID, seq uint64, at int64, text string) *entry.Signed {
	t.Helper()
	body, _ := group.EncodePost(group.Post{Text: text})
	s, err := entry.Sign(entry.Entry{Group: g, Author: a.id, Seq: seq, HLC: hlc.New(at, 0), Kind: group.KindPost, Body: body}, a.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hlcAt(ms int64) hlc.Timestamp { return hlc.New(ms, 0) }

func raws(es ...*entry.Signed) [][]byte {
	out := make([][]byte, len(es))
	for i, e := range es {
		out[i] = e.Raw
	}
	return out
}

func mustStore(t *testing.T, s *Store, es ...*entry.Signed) {
	t.Helper()
	for i, o := range s.Ingest(raws(es...), t0) {
		if !o.Stored() {
			t.Fatalf("entry %d: %+v", i, o)
		}
	}
}

func TestIngestAndRead(t *testing.T) {
	s := memStore(t)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOwner, group.DefaultQuota)
	g := gen.ID
	p1, p2 := a.post(t, g, t0+2, "two"), a.post(t, g, t0+1, "one")
	// The genesis and its posts may arrive in one batch.
	mustStore(t, s, gen, p1, p2)

	if n, _ := s.Count(g); n != 3 {
		t.Fatalf("Count = %d", n)
	}
	var order []string
	s.Log(g, func(e *entry.Signed) bool {
		order = append(order, e.Kind+":"+string(e.Body[len(e.Body)-3:]))
		return true
	})
	if len(order) != 3 || order[0][:7] != "genesis" || order[1] != "post:one" || order[2] != "post:two" {
		t.Fatalf("log order %v", order)
	}
	var back []entry.ID
	err := s.LogBackward(g, func(e *entry.Signed) bool { back = append(back, e.ID); return len(back) < 2 })
	if err != nil || len(back) != 2 || back[0] != p1.ID || back[1] != p2.ID {
		t.Fatalf("LogBackward = %v, %v", back, err)
	}
	if got, err := s.Get(g, p1.ID); err != nil || !bytes.Equal(got.Raw, p1.Raw) {
		t.Fatalf("Get = %v", err)
	}
	if _, err := s.Get(g, entry.ID{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing = %v", err)
	}
	if seq, _ := s.NextSeq(g, a.id); seq != 4 {
		t.Fatalf("NextSeq = %d", seq)
	}
	if seq, _ := s.NextSeq(g, newAuthor(2).id); seq != 1 {
		t.Fatalf("NextSeq for a new author = %d", seq)
	}
	if s.MaxHLC() != p1.HLC {
		t.Fatalf("MaxHLC = %v", s.MaxHLC())
	}
	gs, err := s.Groups()
	if err != nil || len(gs) != 1 || gs[0].ID != g || gs[0].Owner != a.id {
		t.Fatalf("Groups = %v, %v", gs, err)
	}
}

func TestDuplicatesAreNoOps(t *testing.T) {
	s := memStore(t)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOwner, group.DefaultQuota)
	p := a.post(t, gen.ID, t0+1, "x")
	mustStore(t, s, gen, p)
	out := s.Ingest(raws(p, p, gen), t0)
	for i, o := range out {
		if !o.Duplicate || o.Err != nil {
			t.Fatalf("outcome %d = %+v", i, o)
		}
	}
	if n, _ := s.Count(gen.ID); n != 2 {
		t.Fatalf("duplicates changed the count: %d", n)
	}
	// A copy whose signature was tampered with has the same id but is refused.
	bad := bytes.Clone(p.Raw)
	bad[len(bad)-1] ^= 1
	if o := s.Ingest([][]byte{bad}, t0)[0]; !errors.Is(o.Err, entry.ErrBadSignature) {
		t.Fatalf("tampered duplicate: %+v", o)
	}
}

func TestRefusalsLeaveNoTrace(t *testing.T) {
	s := memStore(t)
	owner, stranger := newAuthor(1), newAuthor(2)
	gen := owner.genesis(t, group.WriteOwner, group.Quota{MaxBody: 1000, EntriesPerDay: 2})
	mustStore(t, s, gen)
	g := gen.ID
	other := newAuthor(3).genesis(t, group.WriteOpen, group.DefaultQuota)

	badSig := bytes.Clone(owner.post(t, g, t0+1, "x").Raw)
	badSig[len(badSig)-5] ^= 0x10
	cases := []struct {
		raw  []byte
		want string
	}{
		{[]byte{0x82, 0x01}, "malformed"},
		{badSig, "bad-signature"},
		{owner.post(t, g, t0+group.MaxSkew.Milliseconds()+1, "later").Raw, "future"},
		{newAuthor(3).post(t, other.ID, t0+1, "x").Raw, "unknown-group"},
		{stranger.post(t, g, t0+1, "x").Raw, "not-allowed"},
		{owner.post(t, g, t0-1, "x").Raw, "before-genesis"},
		{owner.post(t, g, t0+1, string(make([]byte, 1001))).Raw, "too-large"},
	}
	for _, c := range cases {
		o := s.Ingest([][]byte{c.raw}, t0)[0]
		if got := Reason(o.Err); got != c.want {
			t.Errorf("want %s, got %q (%v)", c.want, got, o.Err)
		}
	}
	if n, _ := s.Count(g); n != 1 {
		t.Fatalf("refused entries were counted: %d", n)
	}
	if d, _ := s.Digest(g); d != digestOf(gen.ID) {
		t.Fatal("refused entries changed the digest")
	}
}

// digestOf computes the digest the naive way: sort, concatenate, hash.
func digestOf(ids ...entry.ID) [32]byte {
	slices.SortFunc(ids, func(a, b entry.ID) int { return bytes.Compare(a[:], b[:]) })
	var cat []byte
	for _, id := range ids {
		cat = append(cat, id[:]...)
	}
	return blake3.Sum256(cat)
}

func TestDigestIsOrderIndependent(t *testing.T) {
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOwner, group.DefaultQuota)
	es := []*entry.Signed{gen}
	for i := range 50 {
		es = append(es, a.post(t, gen.ID, t0+int64(i%7)+1, fmt.Sprint(i)))
	}
	want := digestOf(ids(es)...)
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 5 {
		s := memStore(t)
		mustStore(t, s, gen)
		rest := slices.Clone(es[1:])
		rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		for len(rest) > 0 { // in batches of random sizes
			n := min(len(rest), 1+rng.IntN(10))
			mustStore(t, s, rest[:n]...)
			rest = rest[n:]
		}
		if d, _ := s.Digest(gen.ID); d != want {
			t.Fatalf("trial %d: digest differs", trial)
		}
	}
}

func ids(es []*entry.Signed) []entry.ID {
	out := make([]entry.ID, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func TestQuotaCountsWithinABatch(t *testing.T) {
	s := memStore(t)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOwner, group.Quota{MaxBody: 1000, EntriesPerDay: 3})
	out := s.Ingest(raws(gen, a.post(t, gen.ID, t0+1, "1"), a.post(t, gen.ID, t0+2, "2"), a.post(t, gen.ID, t0+3, "3")), t0)
	if !out[2].Stored() || !errors.Is(out[3].Err, group.ErrOverQuota) {
		t.Fatalf("the genesis and two posts fill a quota of 3: %+v", out)
	}
	// The next day has a fresh quota; the stored count carries across batches.
	day := int64(24 * 3600 * 1000)
	if o := s.Ingest(raws(a.post(t, gen.ID, t0+day, "4")), t0+day)[0]; !o.Stored() {
		t.Fatalf("next day: %+v", o)
	}
	if o := s.Ingest(raws(a.post(t, gen.ID, t0+4, "5")), t0+day)[0]; !errors.Is(o.Err, group.ErrOverQuota) {
		t.Fatalf("same day, later batch: %+v", o)
	}
}

func TestEquivocationKeepsBoth(t *testing.T) {
	s := memStore(t)
	a, b := newAuthor(1), newAuthor(2)
	gen := a.genesis(t, group.WriteOpen, group.DefaultQuota)
	x, y := b.postSeq(t, gen.ID, 1, t0+1, "x"), b.postSeq(t, gen.ID, 1, t0+2, "y")
	z := b.postSeq(t, gen.ID, 1, t0+3, "z")
	mustStore(t, s, gen, x)
	mustStore(t, s, y, z)
	if n, _ := s.Count(gen.ID); n != 4 {
		t.Fatalf("both forks are kept: count %d", n)
	}
	eq, err := s.Equivocations(gen.ID)
	if err != nil || len(eq) != 1 || eq[0].Author != b.id || eq[0].A != x.ID || eq[0].B != y.ID {
		t.Fatalf("Equivocations = %+v, %v", eq, err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOwner, group.DefaultQuota)
	p := a.post(t, gen.ID, t0+5, "x")
	mustStore(t, s, gen, p)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("a second Open of a store in use: %v", err)
	}
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, _ := s.Count(gen.ID); n != 2 || s.MaxHLC() != p.HLC {
		t.Fatalf("after reopen: count %d, max hlc %v", n, s.MaxHLC())
	}
}

// TestAcknowledgedSurvivesCrash drops everything not synced, as a power cut
// would, and checks that every ingest that returned is still there.
func TestAcknowledgedSurvivesCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s, err := Open("db", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOwner, group.DefaultQuota)
	es := []*entry.Signed{gen}
	mustStore(t, s, gen)
	for i := range 20 {
		p := a.post(t, gen.ID, t0+int64(i)+1, fmt.Sprint(i))
		mustStore(t, s, p)
		es = append(es, p)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	s.Close()
	s = openFS(t, crashed)
	if d, _ := s.Digest(gen.ID); d != digestOf(ids(es)...) {
		t.Fatal("an acknowledged entry was lost in the crash")
	}
}

// TestSeqCacheRefillsAfterReopen checks that a restarted store, whose cache
// of highest seqs is empty, still finds duplicates and forks.
func TestSeqCacheRefillsAfterReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOpen, group.DefaultQuota)
	x := a.postSeq(t, gen.ID, 5, t0+1, "x")
	mustStore(t, s, gen, x)
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fork := a.postSeq(t, gen.ID, 5, t0+2, "fork")
	earlier := a.postSeq(t, gen.ID, 3, t0+3, "late arrival")
	out := s.Ingest(raws(x, fork, earlier), t0)
	if !out[0].Duplicate || !out[1].Stored() || !out[2].Stored() {
		t.Fatalf("outcomes %+v", out)
	}
	if eq, _ := s.Equivocations(gen.ID); len(eq) != 1 || eq[0].A != x.ID || eq[0].B != fork.ID {
		t.Fatalf("the fork after a reopen was not recorded: %+v", eq)
	}
	if seq, _ := s.NextSeq(gen.ID, a.id); seq != 6 {
		t.Fatalf("NextSeq = %d", seq)
	}
}

func TestEquivocationWithinOneBatch(t *testing.T) {
	s := memStore(t)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOpen, group.DefaultQuota)
	x, y := a.postSeq(t, gen.ID, 2, t0+1, "x"), a.postSeq(t, gen.ID, 2, t0+2, "y")
	mustStore(t, s, gen, x, y)
	if eq, _ := s.Equivocations(gen.ID); len(eq) != 1 || eq[0].A != x.ID || eq[0].B != y.ID {
		t.Fatalf("a fork within one batch was not recorded: %+v", eq)
	}
}

func TestLeaveAndPurge(t *testing.T) {
	s := memStore(t)
	a := newAuthor(1)
	keep, gone := a.genesis(t, group.WriteOpen, group.DefaultQuota), newAuthor(2).genesis(t, group.WriteOpen, group.DefaultQuota)
	mustStore(t, s, keep, gone, a.post(t, keep.ID, t0+1, "k"), a.post(t, gone.ID, t0+1, "g"))
	if err := s.SetLeft(gone.ID, true); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.Left(gone.ID); !left {
		t.Fatal("not marked left")
	}
	if n, _ := s.Count(gone.ID); n != 2 {
		t.Fatal("leaving lost entries")
	}
	s.SetLeft(gone.ID, false)
	if left, _ := s.Left(gone.ID); left {
		t.Fatal("rejoining kept the mark")
	}
	before, _ := s.Digest(keep.ID)
	if err := s.Purge(gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Group(gone.ID); !errors.Is(err, group.ErrUnknownGroup) {
		t.Fatalf("after purge: %v", err)
	}
	if n, _ := s.Count(gone.ID); n != 0 {
		t.Fatalf("after purge %d entries are counted", n)
	}
	gs, _ := s.Groups()
	if after, _ := s.Digest(keep.ID); len(gs) != 1 || after != before {
		t.Fatal("purging one group touched another")
	}
	// The purged group can come back whole.
	mustStore(t, s, gone)
}
