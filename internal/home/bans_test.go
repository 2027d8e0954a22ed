package home

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestBansRoundTrip: saved bans read back the same, the file is private
// and no temporary file is left; a file that does not parse is no bans.
func TestBansRoundTrip(t *testing.T) {
	h, _, err := Init(filepath.Join(t.TempDir(), "h"))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Bans(); len(got) != 0 {
		t.Fatalf("bans before any were saved: %v", got)
	}
	until := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	want := []Ban{{Peer: "12D3KooWA", Until: until, Count: 1}, {Peer: "12D3KooWB", Until: until.Add(time.Hour), Count: 3}}
	for range 2 { // the second save replaces the first
		if err := h.SaveBans(want); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.Bans(); !slices.EqualFunc(got, want, func(a, b Ban) bool { return a.Peer == b.Peer && a.Until.Equal(b.Until) && a.Count == b.Count }) {
		t.Fatalf("read back %v, want %v", got, want)
	}
	st, err := os.Stat(filepath.Join(h.Dir, bansFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("bans.json: %v, %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(h.Dir, bansFile+".tmp")); err == nil {
		t.Fatal("a temporary file was left")
	}
	os.WriteFile(filepath.Join(h.Dir, bansFile), []byte("{torn"), 0o600)
	if got := h.Bans(); len(got) != 0 {
		t.Fatalf("bans from a torn file: %v", got)
	}
}
