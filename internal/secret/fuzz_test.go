package secret

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

// FuzzOpen: a sealed key share and a sealed body come from the group's
// entries, which any replica relays. Opening bytes that were not sealed to
// this key, or were altered, fails with ErrOpen and never panics; the
// share opens to its key; and no ciphertext but the one made under the key
// opens (anyone may seal a share to a public key, but only the key's
// holders can make a ciphertext).
func FuzzOpen(f *testing.F) {
	me := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	rng := bytes.NewReader(bytes.Repeat([]byte{9}, 1<<10))
	k, _ := NewKey(rng)
	share, _ := SealTo(k, me.Public().(ed25519.PublicKey), rng)
	nonce, want, _ := Encrypt(k, []byte("ad"), []byte("the plaintext"), rng)
	f.Add(share, nonce, want)
	f.Add([]byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, sealed, nonce, ct []byte) {
		got, err := OpenFor(sealed, me)
		switch {
		case err != nil && !errors.Is(err, ErrOpen):
			t.Fatalf("opening a share: %v, not ErrOpen", err)
		case bytes.Equal(sealed, share) && (err != nil || got != k):
			t.Fatalf("the share opened to %x, %v", got, err)
		}
		pt, err := Decrypt(k, []byte("ad"), nonce, ct)
		switch {
		case err != nil && !errors.Is(err, ErrOpen):
			t.Fatalf("decrypting: %v, not ErrOpen", err)
		case err == nil && (!bytes.Equal(ct, want) || string(pt) != "the plaintext"):
			t.Fatalf("a forged ciphertext opened to %q", pt)
		}
	})
}
