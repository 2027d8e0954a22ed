// Package secret holds the cryptography of private groups: group keys sealed
// to members' identities, and bodies encrypted under a group key.
//
// Nothing here is new cryptography. A group key is 32 random bytes; it
// reaches a member in a NaCl anonymous sealed box (X25519, XSalsa20-Poly1305)
// addressed to the member's Ed25519 identity mapped to X25519 (RFC 7748 §4.1,
// as libsodium's crypto_sign_ed25519_pk_to_curve25519). Bodies are sealed
// with XChaCha20-Poly1305 under the group key, the additional data binding
// the ciphertext to its entry. Randomness is passed in.
package secret

import (
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"

	"filippo.io/edwards25519"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
)

// Key is a group key.
type Key [32]byte

// NonceSize is the size of a body nonce.
const NonceSize = chacha20poly1305.NonceSizeX

// ErrOpen means a box or ciphertext did not open: the wrong key, or damage.
var ErrOpen = errors.New("cannot decrypt")

// NewKey draws a fresh group key.
func NewKey(rand io.Reader) (Key, error) {
	var k Key
	_, err := io.ReadFull(rand, k[:])
	return k, err
}

// SealTo seals k to the holder of an Ed25519 public key.
func SealTo(k Key, to ed25519.PublicKey, rand io.Reader) ([]byte, error) {
	pub, err := x25519Public(to)
	if err != nil {
		return nil, err
	}
	return box.SealAnonymous(nil, k[:], pub, rand)
}

// OpenFor opens a sealed key with the recipient's Ed25519 private key.
func OpenFor(sealed []byte, me ed25519.PrivateKey) (Key, error) {
	priv := x25519Private(me)
	var pub [32]byte
	p, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		return Key{}, err
	}
	copy(pub[:], p)
	out, ok := box.OpenAnonymous(nil, sealed, &pub, priv)
	if !ok || len(out) != 32 {
		return Key{}, ErrOpen
	}
	return Key(out), nil
}

// Encrypt seals plaintext under k, bound to ad.
func Encrypt(k Key, ad, plaintext []byte, rand io.Reader) (nonce, ct []byte, err error) {
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, NonceSize)
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, nil, err
	}
	return nonce, aead.Seal(nil, nonce, plaintext, ad), nil
}

// Decrypt opens a ciphertext made by Encrypt with the same key and ad.
func Decrypt(k Key, ad, nonce, ct []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, err
	}
	if len(nonce) != NonceSize {
		return nil, fmt.Errorf("%w: nonce of %d bytes", ErrOpen, len(nonce))
	}
	pt, err := aead.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// x25519Public maps an Ed25519 public key to its X25519 (Montgomery) form.
func x25519Public(pub ed25519.PublicKey) (*[32]byte, error) {
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil, fmt.Errorf("not an Ed25519 public key: %w", err)
	}
	var out [32]byte
	copy(out[:], p.BytesMontgomery())
	return &out, nil
}

// x25519Private is the X25519 scalar of an Ed25519 key: the clamped first
// half of SHA-512 of its seed (RFC 8032 §5.1.5), clamped again by X25519.
func x25519Private(key ed25519.PrivateKey) *[32]byte {
	h := sha512.Sum512(key.Seed())
	var out [32]byte
	copy(out[:], h[:32])
	return &out
}
