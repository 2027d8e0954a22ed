package entry

import (
	"crypto/rand"
	"crypto/sha512"

	"filippo.io/edwards25519"
)

// VerifyBatch checks the signatures of es in one batch equation, which costs
// about half as much per signature as Verify; when the batch fails, it
// verifies each entry alone to find the bad ones. errs[i] is es[i]'s
// result. The batch and the single rule accept exactly the same signatures
// (ZIP-215, docs/protocol.md §2). keys, which may be nil, keeps the authors'
// decoded keys from one batch to the next.
func VerifyBatch(es []*Signed, keys *Keys) (errs []error) {
	errs = make([]error, len(es))
	if len(es) == 0 {
		return errs
	}
	if len(es) == 1 {
		errs[0] = es[0].Verify()
		return errs
	}
	verifications.Add(uint64(len(es)))
	if keys == nil {
		keys = NewKeys()
	}
	if batchValid(es, keys) {
		return errs
	}
	for i, e := range es {
		errs[i] = e.Verify()
	}
	return errs
}

// batchValid is the batch equation of ed25519consensus (ZIP-215's batch
// rule), checked for all of es at once:
//
//	[8]([-Σ zᵢsᵢ]B + Σ [zᵢ]Rᵢ + Σ [zᵢkᵢ]Aᵢ) = 0
//
// with zᵢ random 128-bit scalars and kᵢ = SHA-512(Rᵢ ‖ Aᵢ ‖ Mᵢ). It differs
// from ed25519consensus.BatchVerifier in two ways that leave the equation
// the same: an author's key is decoded once (keys) rather than in every
// batch, and the terms of one author are summed into one, Σ [zᵢkᵢ]A =
// [Σ zᵢkᵢ]A, so the multiscalar multiplication has a point per author
// rather than per signature. Decoding accepts the same encodings
// (edwards25519's SetBytes, which ZIP-215 relies on) and s must be
// canonical, as in ed25519consensus.
func batchValid(es []*Signed, keys *Keys) bool {
	n := len(es)
	zs := make([]byte, 16*n)
	if _, err := rand.Read(zs); err != nil {
		return false
	}
	// points and scalars: B, then each Rᵢ, then each author's A.
	points := make([]*edwards25519.Point, 1, 1+2*n)
	scalars := make([]*edwards25519.Scalar, 1, 1+2*n)
	points[0] = edwards25519.NewGeneratorPoint()
	bCoeff := edwards25519.NewScalar()
	scalars[0] = bCoeff
	rs := make([]edwards25519.Point, n)
	zvals := make([]edwards25519.Scalar, n)
	authorAt := make(map[Author]int, n)
	var aCoeffs []*edwards25519.Scalar
	var aPoints []*edwards25519.Point
	var zbuf [32]byte
	var digest [64]byte
	msg := make([]byte, len(SignaturePrefix)+len(ID{}))
	copy(msg, SignaturePrefix)
	h := sha512.New()
	k, s, zk := edwards25519.NewScalar(), edwards25519.NewScalar(), edwards25519.NewScalar()
	for i, e := range es {
		if _, err := rs[i].SetBytes(e.Sig[:32]); err != nil {
			return false
		}
		a, ok := keys.point(e.Author)
		if !ok {
			return false
		}
		if _, err := s.SetCanonicalBytes(e.Sig[32:]); err != nil {
			return false
		}
		copy(zbuf[:16], zs[16*i:])
		z := &zvals[i]
		if _, err := z.SetCanonicalBytes(zbuf[:]); err != nil {
			return false
		}
		copy(msg[len(SignaturePrefix):], e.ID[:])
		h.Reset()
		h.Write(e.Sig[:32])
		h.Write(e.Author[:])
		h.Write(msg)
		if _, err := k.SetUniformBytes(h.Sum(digest[:0])); err != nil {
			return false
		}
		bCoeff.MultiplyAdd(z, s, bCoeff)
		points, scalars = append(points, &rs[i]), append(scalars, z)
		zk.Multiply(z, k)
		if j, seen := authorAt[e.Author]; seen {
			aCoeffs[j].Add(aCoeffs[j], zk)
			continue
		}
		authorAt[e.Author] = len(aPoints)
		aPoints, aCoeffs = append(aPoints, a), append(aCoeffs, edwards25519.NewScalar().Set(zk))
	}
	bCoeff.Negate(bCoeff) // the B term is subtracted
	points, scalars = append(points, aPoints...), append(scalars, aCoeffs...)
	check := new(edwards25519.Point).VarTimeMultiScalarMult(scalars, points)
	check.MultByCofactor(check)
	return check.Equal(edwards25519.NewIdentityPoint()) == 1
}

// maxKeys bounds Keys: past it the cache starts over. A decoded key is
// 160 bytes.
const maxKeys = 4096

// Keys caches authors' decoded keys for VerifyBatch: decoding one takes a
// square root, a quarter of a batch's cost per signature before the cache,
// and an author signs many entries. It is not safe for concurrent use.
type Keys struct {
	points map[Author]*edwards25519.Point // nil for a key that does not decode
}

// NewKeys is an empty cache.
func NewKeys() *Keys { return &Keys{points: map[Author]*edwards25519.Point{}} }

// point is a's key decoded; false when it is not a point's encoding.
func (c *Keys) point(a Author) (*edwards25519.Point, bool) {
	p, ok := c.points[a]
	if !ok {
		if len(c.points) >= maxKeys {
			clear(c.points)
		}
		var err error
		if p, err = new(edwards25519.Point).SetBytes(a[:]); err != nil {
			p = nil
		}
		c.points[a] = p
	}
	return p, p != nil
}
