package entry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"hearsay/internal/hlc"

	"github.com/fxamacker/cbor/v2"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

func testKey(seed byte) (ed25519.PrivateKey, Author) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	var a Author
	copy(a[:], key.Public().(ed25519.PublicKey))
	return key, a
}

func mustSign(t testing.TB, e Entry, key ed25519.PrivateKey) *Signed {
	t.Helper()
	s, err := Sign(e, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sampleEntries() []Entry {
	_, a := testKey(1)
	genesis := Entry{Author: a, Seq: 1, HLC: hlc.New(1_767_225_600_000, 0), Kind: KindGenesis,
		Body: []byte{0xa1, 0x64, 'n', 'a', 'm', 'e', 0x64, 'd', 'e', 'm', 'o'}}
	g := ID{0xaa, 0xbb}
	return []Entry{
		genesis,
		{Group: g, Author: a, Seq: 2, HLC: hlc.New(1_767_225_600_001, 3), Kind: "post", Body: []byte("hello")},
		{Group: g, Author: a, Seq: 300, HLC: hlc.New(1<<47, 65535), Kind: "post", Refs: []ID{{1}, {2}}, Body: bytes.Repeat([]byte{7}, 70000)},
	}
}

func TestSignDecodeVerify(t *testing.T) {
	key, _ := testKey(1)
	for _, e := range sampleEntries() {
		s := mustSign(t, e, key)
		d, err := Decode(s.Raw)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if d.ID != s.ID || d.Sig != s.Sig || d.Seq != e.Seq || d.HLC != e.HLC || d.Kind != e.Kind ||
			!bytes.Equal(d.Body, e.Body) || len(d.Refs) != len(e.Refs) || d.Group != e.Group {
			t.Fatalf("round trip changed the entry: %+v", d.Entry)
		}
		if err := d.Verify(); err != nil {
			t.Fatal(err)
		}
		if e.Kind == KindGenesis && d.GroupID() != d.ID {
			t.Fatal("a genesis entry's group is its own id")
		}
	}
}

func TestVerifyRejectsOtherKey(t *testing.T) {
	key, _ := testKey(1)
	_, other := testKey(2)
	s := mustSign(t, sampleEntries()[1], key)
	s.Author = other
	if err := s.Verify(); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify with another author = %v", err)
	}
}

func TestSignRefusesBadFields(t *testing.T) {
	key, a := testKey(1)
	g := ID{1}
	ok := Entry{Group: g, Author: a, Seq: 1, HLC: hlc.New(1, 0), Kind: "post"}
	for name, mutate := range map[string]func(*Entry){
		"seq 0":           func(e *Entry) { e.Seq = 0 },
		"no hlc":          func(e *Entry) { e.HLC = 0 },
		"no group":        func(e *Entry) { e.Group = ID{} },
		"genesis w/group": func(e *Entry) { e.Kind = KindGenesis },
		"empty kind":      func(e *Entry) { e.Kind = "" },
		"upper kind":      func(e *Entry) { e.Kind = "Post" },
		"long kind":       func(e *Entry) { e.Kind = string(bytes.Repeat([]byte("k"), MaxKind+1)) },
		"many refs":       func(e *Entry) { e.Refs = make([]ID, MaxRefs+1) },
		"big body":        func(e *Entry) { e.Body = make([]byte, MaxBody+1) },
		"other author":    func(e *Entry) { e.Author = Author{9} },
	} {
		e := ok
		mutate(&e)
		if _, err := Sign(e, key); err == nil {
			t.Errorf("%s: Sign accepted it", name)
		}
	}
	if _, err := Sign(ok, key); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeRefusesNonCanonical checks spellings a lax CBOR decoder would take.
func TestDecodeRefusesNonCanonical(t *testing.T) {
	key, _ := testKey(1)
	raw := mustSign(t, sampleEntries()[1], key).Raw
	cases := map[string][]byte{
		"indefinite outer array": append([]byte{0x9f}, append(append([]byte{}, raw[1:]...), 0xff)...),
		"long outer head":        append([]byte{0x98, 0x02}, raw[1:]...),
		"trailing byte":          append(append([]byte{}, raw...), 0),
		"truncated":              raw[:len(raw)-1],
		"empty":                  {},
		"three items":            append([]byte{0x83}, raw[1:]...),
	}
	// The version is the byte after the content head: spell 1 as 0x18 0x01.
	long := append([]byte{}, raw[:2]...)
	long = append(long, 0x18, 0x01)
	cases["long version"] = append(long, raw[3:]...)
	for name, b := range cases {
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Decode = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := Decode(make([]byte, MaxEncoded+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
}

func TestGenesisHasOneSpelling(t *testing.T) {
	key, _ := testKey(1)
	raw := mustSign(t, sampleEntries()[0], key).Raw
	// content head, version, then the group: 0x40 (empty). Replace with 32 zero bytes.
	i := bytes.IndexByte(raw[2:], 0x40) + 2
	alt := append(append(append([]byte{}, raw[:i]...), append([]byte{0x58, 32}, make([]byte, 32)...)...), raw[i+1:]...)
	if _, err := Decode(alt); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a genesis with a zero group decoded: %v", err)
	}
}

// TestEncodingMatchesCBORLibrary checks the hand encoder against an
// independent Core Deterministic encoder.
func TestEncodingMatchesCBORLibrary(t *testing.T) {
	type content struct {
		_       struct{} `cbor:",toarray"`
		Version uint64
		Group   []byte
		Author  []byte
		Seq     uint64
		HLC     uint64
		Kind    string
		Refs    [][]byte
		Body    []byte
	}
	type signed struct {
		_       struct{} `cbor:",toarray"`
		Content content
		Sig     []byte
	}
	em, err := cbor.EncOptions{Sort: cbor.SortCoreDeterministic, ShortestFloat: cbor.ShortestFloat16,
		NilContainers: cbor.NilContainerAsEmpty}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := testKey(1)
	for _, e := range sampleEntries() {
		s := mustSign(t, e, key)
		c := content{Version: Version, Author: e.Author[:], Seq: e.Seq, HLC: uint64(e.HLC), Kind: e.Kind, Body: e.Body, Refs: [][]byte{}}
		if e.Kind != KindGenesis {
			c.Group = e.Group[:]
		}
		for _, r := range e.Refs {
			c.Refs = append(c.Refs, r[:])
		}
		want, err := em.Marshal(signed{Content: c, Sig: s.Sig[:]})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, s.Raw) {
			t.Fatalf("kind %s: encodings differ\nours %x\nlib  %x", e.Kind, s.Raw[:64], want[:64])
		}
	}
}

type vector struct {
	Seed   string   `json:"seed"`
	Group  string   `json:"group"`
	Seq    uint64   `json:"seq"`
	HLC    uint64   `json:"hlc"`
	Kind   string   `json:"kind"`
	Refs   []string `json:"refs"`
	Body   string   `json:"body"`
	Author string   `json:"author"`
	ID     string   `json:"id"`
	Sig    string   `json:"signature"`
	Raw    string   `json:"encoded"`
}

// TestGoldenVectors pins the exact bytes, ids and signatures, so another
// implementation can check itself against testdata/vectors.json.
func TestGoldenVectors(t *testing.T) {
	key, _ := testKey(1)
	var got []vector
	for _, e := range sampleEntries()[:2] {
		s := mustSign(t, e, key)
		v := vector{Seed: hex.EncodeToString(key.Seed()), Seq: e.Seq, HLC: uint64(e.HLC), Kind: e.Kind,
			Refs: []string{}, Body: hex.EncodeToString(e.Body), Author: e.Author.String(),
			ID: s.ID.String(), Sig: hex.EncodeToString(s.Sig[:]), Raw: hex.EncodeToString(s.Raw)}
		if e.Kind != KindGenesis {
			v.Group = e.Group.String()
		}
		for _, r := range e.Refs {
			v.Refs = append(v.Refs, r.String())
		}
		got = append(got, v)
	}
	path := filepath.Join("testdata", "vectors.json")
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []vector
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Fatalf("%d vectors on file, %d computed", len(want), len(got))
	}
	for i := range want {
		if want[i].Raw != got[i].Raw || want[i].ID != got[i].ID || want[i].Sig != got[i].Sig {
			t.Errorf("vector %d (%s) differs from testdata: run with -update only if the format changed on purpose", i, want[i].Kind)
		}
	}
}

// FuzzDecode checks that the decoder never panics and that whatever it
// accepts is the one canonical encoding of its fields.
func FuzzDecode(f *testing.F) {
	key, _ := testKey(1)
	for _, e := range sampleEntries()[:2] {
		f.Add(mustSign(f, e, key).Raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := Decode(raw)
		if err != nil {
			return
		}
		if again := encodeSigned(encodeContent(s.Entry), s.Sig[:]); !bytes.Equal(again, raw) {
			t.Fatalf("accepted a non-canonical encoding\n in  %x\n out %x", raw, again)
		}
		_ = s.Verify()
	})
}
