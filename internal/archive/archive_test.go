package archive

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"hearsay/internal/entry"

	"github.com/fxamacker/cbor/v2"
)

func TestHeaderIsCanonicalCBOR(t *testing.T) {
	em, _ := cbor.CanonicalEncOptions().EncMode()
	want, _ := em.Marshal(map[string]any{"format": "hearsay-export", "version": 1})
	if !bytes.Equal(want, Header) {
		t.Fatalf("Header = %x, want %x", Header, want)
	}
}

func file(items ...[]byte) []byte {
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, it := range items {
		w.Write(it)
	}
	return b.Bytes()
}

func readAll(t *testing.T, b []byte) ([][]byte, []int64, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	var items [][]byte
	var offs []int64
	for {
		raw, off, err := r.Next()
		if err == io.EOF {
			return items, offs, nil
		}
		if err != nil {
			return items, offs, err
		}
		items = append(items, raw)
		offs = append(offs, off)
	}
}

func TestRoundTrip(t *testing.T) {
	a, b := []byte{0x82, 0x01, 0x02}, append([]byte{0x59, 0x01, 0x00}, make([]byte, 256)...)
	items, offs, err := readAll(t, file(a, b))
	if err != nil || len(items) != 2 || !bytes.Equal(items[0], a) || !bytes.Equal(items[1], b) {
		t.Fatalf("read %d items, %v", len(items), err)
	}
	if offs[0] != int64(len(Header)) || offs[1] != offs[0]+int64(len(a)) {
		t.Fatalf("offsets %v", offs)
	}
	if items, _, err := readAll(t, file()); err != nil || len(items) != 0 {
		t.Fatalf("an empty export: %d items, %v", len(items), err)
	}
}

func TestCorruption(t *testing.T) {
	if _, err := NewReader(bytes.NewReader([]byte("hello world, not cbor at all"))); err == nil {
		t.Fatal("a file without the header was accepted")
	}
	good := file([]byte{0x82, 0x01, 0x02}, []byte{0x82, 0x03, 0x04})
	items, _, err := readAll(t, good[:len(good)-1])
	if !errors.Is(err, ErrCorrupt) || len(items) != 1 {
		t.Fatalf("truncated: %d items, %v", len(items), err)
	}
	// A byte string head claiming more than the entry limit.
	huge := file([]byte{0x5a, 0x7f, 0xff, 0xff, 0xff})
	if _, _, err := readAll(t, append(huge, make([]byte, entry.MaxEncoded+100)...)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("oversized item: %v", err)
	}
	if _, _, err := readAll(t, file([]byte{0xff})); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a break byte: %v", err)
	}
}

// FuzzReader checks that no input panics the reader, that the items it
// returns tile the file after the header, and that it always terminates.
func FuzzReader(f *testing.F) {
	f.Add(file([]byte{0x82, 0x01, 0x02}))
	f.Add(file([]byte{0x5a, 0x00, 0x01, 0x00, 0x00}))
	f.Add([]byte("not an export"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		next := int64(len(Header))
		for {
			raw, off, err := r.Next()
			if err != nil {
				return
			}
			if off != next || !bytes.Equal(raw, b[off:off+int64(len(raw))]) || len(raw) == 0 {
				t.Fatalf("item at %d does not tile the file", off)
			}
			next += int64(len(raw))
		}
	})
}
