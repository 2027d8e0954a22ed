package group

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/hlc"
	"hearsay/internal/secret"
)

// sealPost seals a post of text under k and signs it.
func sealPost(t *testing.T, k secret.Key, text string, maxBody uint32) *entry.Signed {
	t.Helper()
	sk, a := key(2)
	body, err := EncodePost(Post{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Seal(entry.Entry{Group: entry.ID{9}, Author: a, Seq: 1, HLC: hlc.New(1000, 0), Kind: KindPost, Body: body}, [32]byte{7}, k, maxBody, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := entry.Sign(e, sk)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSealedLengthsAreBuckets: an outsider sees a sealed body's length in
// buckets, not the plaintext's: every short post alike, longer ones to
// within 12%, never beyond what the group's quota admits; each opens to
// what was sealed.
func TestSealedLengthsAreBuckets(t *testing.T) {
	k, _ := secret.NewKey(rand.Reader)
	lengths := map[int]bool{}
	for n := 1; n <= 200; n++ {
		lengths[len(sealPost(t, k, strings.Repeat("x", n), DefaultQuota.MaxBody).Body)] = true
	}
	if len(lengths) != 1 {
		t.Fatalf("posts of 1 to 200 bytes sealed to %d lengths, want 1", len(lengths))
	}
	clear(lengths)
	for n := 5000; n < 5500; n++ {
		s := sealPost(t, k, strings.Repeat("y", n), DefaultQuota.MaxBody)
		lengths[len(s.Body)] = true
		if len(s.Body) > n+n/8+sealOverhead {
			t.Fatalf("a post of %d bytes sealed to %d", n, len(s.Body))
		}
		open, err := Unseal(s, k)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := DecodePost(open); err != nil || len(p.Text) != n {
			t.Fatalf("unsealed: %v, %d bytes", err, len(p.Text))
		}
	}
	if len(lengths) != 3 { // Padmé steps by 256 bytes there
		t.Fatalf("posts of 5000 to 5499 bytes sealed to %d lengths, want 3", len(lengths))
	}
	const max = 4096 // a quota barely above a post: padding stops at it
	if s := sealPost(t, k, strings.Repeat("z", 3800), max); len(s.Body) > max {
		t.Fatalf("a post that fits the quota sealed to %d bytes, over %d", len(s.Body), max)
	}
}

// TestSealedPadding: a plaintext padded with other than zeros is refused;
// one sealed before padding, [kind, body] alone, still opens.
func TestSealedPadding(t *testing.T) {
	k, _ := secret.NewKey(rand.Reader)
	sk, a := key(2)
	body, _ := EncodePost(Post{Text: "old"})
	e := entry.Entry{Group: entry.ID{9}, Author: a, Seq: 1, HLC: hlc.New(1000, 0), Kind: KindSealed}
	for _, c := range []struct {
		pt   []byte
		want error
	}{
		{encodeBody(&inner{Kind: KindPost, Body: body}), nil},
		{append(encodeBody(&inner{Kind: KindPost, Body: body}), 0, 0, 0), nil},
		{append(encodeBody(&inner{Kind: KindPost, Body: body}), 0, 0, 1), entry.ErrMalformed},
	} {
		nonce, ct, err := secret.Encrypt(k, sealedAD(&e), c.pt, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		e.Body = encodeBody(&Sealed{Key: make([]byte, 32), Nonce: nonce, CT: ct})
		s, err := entry.Sign(e, sk)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Unseal(s, k); !errors.Is(err, c.want) {
			t.Fatalf("unseal %x: %v, want %v", c.pt, err, c.want)
		}
	}
}
