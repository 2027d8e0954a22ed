package group

import (
	"bytes"
	"fmt"
	"sync"

	"hearsay/internal/entry"

	"github.com/fxamacker/cbor/v2"
)

// Bodies are CBOR maps with text keys, encoded Core Deterministic (RFC 8949
// §4.2.1). Decoding is strict and then re-encodes: a body is accepted only in
// its one canonical spelling, so every implementation folds it the same way.
var codec = sync.OnceValues(func() (codecPair, error) {
	em, err := cbor.EncOptions{Sort: cbor.SortCoreDeterministic, ShortestFloat: cbor.ShortestFloat16,
		NilContainers: cbor.NilContainerAsEmpty}.EncMode()
	if err != nil {
		return codecPair{}, err
	}
	dm, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF, IndefLength: cbor.IndefLengthForbidden,
		TagsMd: cbor.TagsForbidden, ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8: cbor.UTF8RejectInvalid, MaxNestedLevels: 8, MaxArrayElements: 1024, MaxMapPairs: 64}.DecMode()
	return codecPair{em, dm}, err
})

type codecPair struct {
	enc cbor.EncMode
	dec cbor.DecMode
}

func encodeBody(v any) []byte {
	c, err := codec()
	if err != nil {
		panic(err) // the options are constants: this cannot fail at run time
	}
	b, err := c.enc.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("group: encoding %T: %v", v, err)) // plain structs always encode
	}
	return b
}

func decodeBody(kind string, b []byte, v any) error {
	c, err := codec()
	if err != nil {
		panic(err)
	}
	if err := c.dec.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s body: %v", entry.ErrMalformed, kind, err)
	}
	if again, err := c.enc.Marshal(v); err != nil || !bytes.Equal(again, b) {
		return fmt.Errorf("%w: %s body is not in canonical form", entry.ErrMalformed, kind)
	}
	return nil
}
