package node

import (
	"bytes"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// TestStats: own writes, a sync session on both sides and an import each
// move their counters, and by the amounts they moved.
func TestStats(t *testing.T) {
	a, b, c := newNode(t, false), newNode(t, false), newNode(t, false)
	gen := openGenesis()
	gen.Write = group.WriteOpen
	g, _ := a.CreateGroup(gen)
	for range 4 {
		a.Post(g, group.Post{Text: "hello"}, entry.ID{})
	}
	if got := a.Stats().Stored[SourceOwn]; got != 5 {
		t.Fatalf("a stored %d of its own entries, want 5 (genesis and 4 posts)", got)
	}
	if _, err := syncOver(t, b, a, g); err != nil {
		t.Fatal(err)
	}
	sa, sb := a.Stats(), b.Stats()
	if sb.Stored[SourcePeer] != 5 || sb.Sessions[Session{RoleClient, ResultOK}] != 1 || sa.Sessions[Session{RoleServer, ResultOK}] != 1 {
		t.Fatalf("after a sync: client %+v, server %+v", sb, sa)
	}
	if sb.Rounds == 0 || sa.Rounds != sb.Rounds {
		t.Fatalf("rounds: client sent %d, server answered %d", sb.Rounds, sa.Rounds)
	}
	if sb.BytesOut == 0 || sb.BytesIn != sa.BytesOut || sb.BytesOut != sa.BytesIn {
		t.Fatalf("bytes: client in %d out %d, server in %d out %d", sb.BytesIn, sb.BytesOut, sa.BytesIn, sa.BytesOut)
	}
	var file bytes.Buffer
	if _, err := a.Export(g, &file); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Import(&file); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().Stored; got[SourceImport] != 5 || got[SourcePeer] != 0 || got[SourceOwn] != 0 {
		t.Fatalf("after an import: %v", got)
	}
	if _, err := syncOver(t, b, newNode(t, false), g); err == nil {
		t.Fatal("a sync with a node without the group succeeded")
	}
	if got := b.Stats().Sessions[Session{RoleClient, ResultError}]; got != 1 {
		t.Fatalf("failed client sessions: %d", got)
	}
}
