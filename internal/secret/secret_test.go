package secret

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"

	"golang.org/x/crypto/curve25519"
)

func TestMappedKeysAgree(t *testing.T) {
	for range 20 {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		mont, err := x25519Public(pub)
		if err != nil {
			t.Fatal(err)
		}
		derived, _ := curve25519.X25519(x25519Private(priv)[:], curve25519.Basepoint)
		if !bytes.Equal(mont[:], derived) {
			t.Fatal("the public and private mappings disagree")
		}
	}
}

func TestSealOpen(t *testing.T) {
	alicePub, alice, _ := ed25519.GenerateKey(rand.Reader)
	_, eve, _ := ed25519.GenerateKey(rand.Reader)
	k, _ := NewKey(rand.Reader)
	sealed, err := SealTo(k, alicePub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := OpenFor(sealed, alice); err != nil || got != k {
		t.Fatalf("OpenFor: %v", err)
	}
	if _, err := OpenFor(sealed, eve); !errors.Is(err, ErrOpen) {
		t.Fatalf("another key opened the box: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := OpenFor(sealed, alice); !errors.Is(err, ErrOpen) {
		t.Fatalf("a damaged box opened: %v", err)
	}
}

func TestEncryptBindsAD(t *testing.T) {
	k, _ := NewKey(rand.Reader)
	nonce, ct, err := Encrypt(k, []byte("entry 1"), []byte("secret text"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := Decrypt(k, []byte("entry 1"), nonce, ct); err != nil || string(pt) != "secret text" {
		t.Fatalf("Decrypt: %q %v", pt, err)
	}
	if _, err := Decrypt(k, []byte("entry 2"), nonce, ct); !errors.Is(err, ErrOpen) {
		t.Fatal("a ciphertext opened in another entry")
	}
	other, _ := NewKey(rand.Reader)
	if _, err := Decrypt(other, []byte("entry 1"), nonce, ct); !errors.Is(err, ErrOpen) {
		t.Fatal("a ciphertext opened under another key")
	}
}
