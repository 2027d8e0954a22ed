package node

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/wire"
)

// probeOver runs one probe from client to server over a pipe, the server
// asking admit, and returns the verdicts and the groups the server found
// the same.
func probeOver(t *testing.T, client, server *Node, admit func(entry.ID) error, groups ...entry.ID) ([]wire.Verdict, []entry.ID) {
	t.Helper()
	a, b := net.Pipe()
	type served struct {
		same []entry.ID
		err  error
	}
	done := make(chan served, 1)
	go func() {
		same, _, err := server.ServeSync(b, admit)
		done <- served{same, err}
		b.Close()
	}()
	verdicts, err := client.Probe(a, groups)
	a.Close()
	s := <-done
	if err != nil || s.err != nil {
		t.Fatalf("probe: %v; server: %v", err, s.err)
	}
	return verdicts, s.same
}

// openGroupOf makes an open group on n with posts posts, and gives it to
// the others.
func openGroupOf(t *testing.T, n *Node, posts int, to ...*Node) entry.ID {
	t.Helper()
	gen := openGenesis()
	gen.Write = group.WriteOpen
	g, err := n.CreateGroup(gen)
	if err != nil {
		t.Fatal(err)
	}
	for range posts {
		if _, err := n.Post(g, group.Post{Text: "hello"}, entry.ID{}); err != nil {
			t.Fatal(err)
		}
	}
	share(t, n, g, to...)
	return g
}

// TestProbeTellsWhichGroupsDiffer: one exchange says, per group, whether
// the two sets match, whether the server lacks the group, and whether it
// is busy for it; nothing moves.
func TestProbeTellsWhichGroupsDiffer(t *testing.T) {
	clock := now
	a, b := clockedNode(t, &clock), clockedNode(t, &clock)
	same := openGroupOf(t, a, 5, b)
	differs := openGroupOf(t, a, 5, b)
	if _, err := b.Post(differs, group.Post{Text: "only on b"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	unknown := openGroupOf(t, a, 1)
	busy := openGroupOf(t, a, 1, b)
	admit := func(g entry.ID) error {
		if g == busy {
			return errBusy
		}
		return nil
	}
	verdicts, found := probeOver(t, a, b, admit, same, differs, unknown, busy)
	if want := []wire.Verdict{wire.Same, wire.Differs, wire.Unknown, wire.Busy}; !slices.Equal(verdicts, want) {
		t.Fatalf("verdicts %v, want %v", verdicts, want)
	}
	if !slices.Equal(found, []entry.ID{same}) {
		t.Fatalf("the server found %v the same, want only the first group", found)
	}
	if digest(t, a, differs) == digest(t, b, differs) {
		t.Fatal("a probe moved entries")
	}
	if _, err := a.Probe(nil, nil); err == nil {
		t.Fatal("a probe of no group was sent")
	}
}

// TestRoundProbesEachPeerOnce: an anti-entropy round over libp2p asks its
// one peer about all three groups in one probe, and opens a session for
// the one group that differs only.
func TestRoundProbesEachPeerOnce(t *testing.T) {
	a, b := newNode(t, true), newNode(t, true)
	var groups []entry.ID
	for range 3 {
		groups = append(groups, openGroupOf(t, a, 3, b))
	}
	na, nb := pairOnLoopback(t, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, g := range groups {
		if _, err := nb.SyncWith(ctx, na.Addrs()[0], g); err != nil {
			t.Fatal(err)
		}
	}
	// A post b's push may or may not deliver before the round: either
	// way only its group may get a session.
	if _, err := a.Post(groups[1], group.Post{Text: "new"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	served := func() uint64 { return a.Stats().Sessions[Session{RoleServer, ResultOK}] }
	before, rounds := served(), a.Stats().Rounds
	var synced []string
	err := nb.Round(ctx, func(p, g string, res SyncResult, err error) {
		if err != nil {
			t.Errorf("group %s: %v", g, err)
		}
		synced = append(synced, g)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(synced) != 3 {
		t.Fatalf("the round reported %v, want the three groups", synced)
	}
	if got := served() - before; got > 1 {
		t.Fatalf("the server answered %d sessions, want at most one", got)
	}
	if got := a.Stats().Rounds - rounds; got < 1 || got > 2 {
		t.Fatalf("the server answered %d rounds, want the probe and at most one Negentropy round", got)
	}
	if digest(t, a, groups[1]) != digest(t, b, groups[1]) {
		t.Fatal("the group that differed was not synced")
	}
}
