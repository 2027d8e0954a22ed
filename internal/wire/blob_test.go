package wire

import (
	"errors"
	"reflect"
	"testing"
)

var blobSamples = []BlobMessage{
	BlobStore{Group: [32]byte{1}, Writer: [32]byte{2}, ID: [32]byte{3}, Size: 16<<10 + 1, Expires: 1700000000, Hashes: [][32]byte{{4}, {5}}},
	BlobFetch{ID: [32]byte{6}, Offset: 32 << 10, Length: 100},
	BlobHave{IDs: [][32]byte{{7}, {8}, {9}}},
	BlobAudit{ID: [32]byte{10}, Nonce: [32]byte{11}, Block: 3},
	BlobObject{Size: 5, Hashes: [][32]byte{{12}}},
	BlobData{Data: []byte("some bytes")},
	BlobHolding{Bits: []byte{0b101}},
	BlobProof{Nonce: [32]byte{13}, Size: 3, Hashes: [][32]byte{{14}}, Block: []byte("abc")},
	BlobAck{},
	BlobErr{Code: CodeNoCredit, Text: "no credit"},
	BlobRenew{Expires: 1800000000, IDs: [][32]byte{{15}, {16}}},
}

func TestBlobRoundTrip(t *testing.T) {
	for _, m := range blobSamples {
		got, err := DecodeBlob(EncodeBlob(m))
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("%#v: got %#v, %v", m, got, err)
		}
	}
}

func TestBlobRefusesInconsistentFields(t *testing.T) {
	for name, m := range map[string]BlobMessage{
		"store hashes short":   BlobStore{Size: 16<<10 + 1, Hashes: [][32]byte{{1}}},
		"store too large":      BlobStore{Size: 1 << 40},
		"fetch off a block":    BlobFetch{Offset: 5},
		"object hashes extra":  BlobObject{Size: 1, Hashes: [][32]byte{{1}, {2}}},
		"proof with no block":  BlobProof{Size: 1, Hashes: [][32]byte{{1}}},
		"proof block too long": BlobProof{Size: 1, Hashes: [][32]byte{{1}}, Block: make([]byte, 16<<10+1)},
		"empty data":           BlobData{},
	} {
		if _, err := DecodeBlob(EncodeBlob(m)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	for name, b := range map[string][]byte{
		"empty":            {},
		"unknown type":     {0x7f},
		"truncated store":  EncodeBlob(blobSamples[0])[:50],
		"trailing bytes":   append(EncodeBlob(BlobAck{}), 0),
		"have count lies":  {tagBlobHave, 0xff, 0x01},
		"holding too long": append([]byte{tagBlobHolding}, make([]byte, MaxHave)...),
	} {
		if _, err := DecodeBlob(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzDecodeBlob: no input panics the decoder or makes it allocate beyond
// what the input can hold, and whatever decodes survives a round trip. Its
// corpus is in testdata/fuzz/FuzzDecodeBlob.
func FuzzDecodeBlob(f *testing.F) {
	for _, m := range blobSamples {
		f.Add(EncodeBlob(m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeBlob(b)
		if err != nil {
			return
		}
		again, err := DecodeBlob(EncodeBlob(m))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("%#v does not survive a round trip: %#v, %v", m, again, err)
		}
	})
}
