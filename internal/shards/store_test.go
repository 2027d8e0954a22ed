package shards

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"hearsay/internal/blob"
)

func TestPutReadReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("shard"), 10000) // 50,000 bytes: 4 blocks
	id := blob.IDOf(data)
	m := Meta{ID: id, Group: [32]byte{1}, Writer: [32]byte{2}, Owner: "peer", Expires: 100}
	if err := s.Put(m, data); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(Meta{ID: blob.ID{1}}, data); !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("stored bytes under another id: %v", err)
	}
	got, err := s.Read(id, blob.BlockSize, 100)
	if err != nil || !bytes.Equal(got, data[blob.BlockSize:blob.BlockSize+100]) {
		t.Fatalf("range read: %v", err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := s2.Meta(id)
	if err != nil || meta.Owner != "peer" || meta.Expires != 100 || s2.Bytes() != int64(len(data)) {
		t.Fatalf("after reopening: %+v, %v", meta, err)
	}
	all, err := s2.Read(id, 0, -1)
	if err != nil || !bytes.Equal(all, data) {
		t.Fatalf("whole read: %v", err)
	}
	if held, err := s2.Renew(id, 500); !held || err != nil {
		t.Fatalf("renew: %v %v", held, err)
	}
	if len(s2.Expired(400, "me")) != 0 || len(s2.Expired(600, "me")) != 1 || len(s2.Expired(600, "peer")) != 0 {
		t.Fatal("expiry does not follow the renewed lease")
	}
	if s3, _ := Open(dir); s3 == nil || mustMeta(t, s3, id).Expires != 500 {
		t.Fatal("a renewed lease is not on disk")
	}
	if err := s2.Delete(id); err != nil || s2.Has(id) || s2.Bytes() != 0 {
		t.Fatalf("delete: %v", err)
	}
}

func TestRotIsNotServedAndDamageIsSetAside(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	data := bytes.Repeat([]byte{3}, 3*blob.BlockSize)
	id := blob.IDOf(data)
	if err := s.Put(Meta{ID: id}, data); err != nil {
		t.Fatal(err)
	}
	path := s.path(id)
	b, _ := os.ReadFile(path)
	b[len(b)-1] ^= 1 // the last block rots
	os.WriteFile(path, b, 0o600)
	if _, err := s.Read(id, 0, -1); !errors.Is(err, ErrNotFound) || s.Has(id) {
		t.Fatalf("served a rotten block, or still claims it: %v", err)
	}
	os.Rename(filepath.Join(filepath.Dir(path), ".damaged-"+id.String()), path)
	os.WriteFile(path, b[:len(b)-10], 0o600) // and is cut short
	s2, err := Open(dir)
	if err != nil || s2.Has(id) || s2.Damaged != 1 {
		t.Fatalf("a truncated object: err %v, held %v, damaged %d", err, s2.Has(id), s2.Damaged)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), ".damaged-"+id.String())); err != nil {
		t.Fatal(err)
	}
}

func mustMeta(t *testing.T, s *Store, id blob.ID) Meta {
	t.Helper()
	m, err := s.Meta(id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// FuzzReadMeta: no object file, however damaged, panics Open's header
// reader; one it accepts has a header that matches its name and length.
func FuzzReadMeta(f *testing.F) {
	data := bytes.Repeat([]byte("x"), blob.BlockSize+5)
	m := Meta{ID: blob.IDOf(data), Owner: "peer", Expires: 9, Size: len(data), Hashes: blob.BlockHashes(data)}
	f.Add(append(encodeMeta(&m), data...))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), m.ID.String())
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readMeta(path)
		if err != nil {
			return
		}
		if got.ID != m.ID || len(encodeMeta(got))+got.Size != len(b) {
			t.Fatalf("accepted a header for %s of %d bytes in a file of %d", got.ID.Short(), got.Size, len(b))
		}
	})
}
