package node

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/wire"
)

// syncOver runs one sync session from client to server over a pipe.
func syncOver(t *testing.T, client, server *Node, g entry.ID) (SyncResult, error) {
	t.Helper()
	a, b := net.Pipe()
	served := make(chan error, 1)
	go func() {
		_, _, err := server.ServeSync(b, nil)
		served <- err
		b.Close()
	}()
	res, err := client.Sync(a, g)
	a.Close()
	if serr := <-served; serr != nil && err == nil {
		t.Fatalf("server: %v", serr)
	}
	return res, err
}

func TestSyncConverges(t *testing.T) {
	clock := now
	a, b := clockedNode(t, &clock), clockedNode(t, &clock)
	gen := openGenesis()
	gen.Write = group.WriteOpen
	g, _ := a.CreateGroup(gen)
	share(t, a, g, b)
	for i := range 300 {
		clock = clock.Add(time.Millisecond)
		if i%3 == 0 {
			b.Post(g, group.Post{Text: "from b"}, entry.ID{})
		} else {
			a.Post(g, group.Post{Text: "from a"}, entry.ID{})
		}
	}
	res, err := syncOver(t, b, a, g)
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != 200 || res.Sent != 100 || res.Refused != 0 {
		t.Fatalf("moved %+v, want 200 received and 100 sent", res)
	}
	if digest(t, a, g) != digest(t, b, g) {
		t.Fatal("digests differ after sync")
	}
	again, err := syncOver(t, a, b, g)
	if err != nil || again.Received != 0 || again.Sent != 0 || again.Rounds != 1 {
		t.Fatalf("a second sync moved %+v, %v", again, err)
	}
}

func TestSyncJoinsAGroup(t *testing.T) {
	clock := now
	owner, member, outsider := clockedNode(t, &clock), clockedNode(t, &clock), clockedNode(t, &clock)
	gen := openGenesis()
	gen.Read = group.ReadMembers
	g, _ := owner.CreateGroup(gen)
	clock = clock.Add(time.Second)
	owner.SetMember(g, member.Home.Author, true, false)
	for range 50 {
		clock = clock.Add(time.Millisecond)
		owner.Post(g, group.Post{Text: "sealed"}, entry.ID{})
	}
	owner.DirPut(g, "a/b", []byte("v"))
	for _, n := range []*Node{member, outsider} {
		if _, err := syncOver(t, n, owner, g); err != nil {
			t.Fatal(err)
		}
		if digest(t, n, g) != digest(t, owner, g) {
			t.Fatal("a joining node did not get the whole group")
		}
	}
	if got := texts(t, member, g); len(got) != 50 {
		t.Fatalf("the member reads %d posts", len(got))
	}
	if v, _ := member.View(g); len(must(v.Find("a/"))) != 1 {
		t.Fatal("the member's directory view is empty after sync")
	}
	if got := texts(t, outsider, g); len(got) != 0 {
		t.Fatalf("the outsider reads %v", got)
	}
}

func TestSyncUnknownGroup(t *testing.T) {
	a, b := newNode(t, false), newNode(t, false)
	if _, err := syncOver(t, a, b, entry.ID{9}); err == nil || !strings.Contains(err.Error(), "does not hold the group") {
		t.Fatalf("sync of a group the server lacks: %v", err)
	}
}

// FuzzServeSync feeds arbitrary streams to a sync server: it must return an
// error or nil, never panic or hang.
func FuzzServeSync(f *testing.F) {
	n, g, _ := smallGroup(f)
	var seed bytes.Buffer
	wire.WriteFrame(&seed, wire.Encode(wire.Open{Version: wire.Version, Group: g}))
	wire.WriteFrame(&seed, wire.Encode(wire.Recon{Msg: []byte{0x61, 0x00, 0x00, 0x02, 0x00}}))
	wire.WriteFrame(&seed, wire.Encode(wire.Get{IDs: []entry.ID{g}}))
	f.Add(seed.Bytes())
	var probe bytes.Buffer
	wire.WriteFrame(&probe, wire.Encode(wire.Probe{Version: wire.Version, Groups: []wire.ProbeGroup{{Group: g, Count: 4}, {Group: entry.ID{7}}}}))
	f.Add(probe.Bytes())
	f.Fuzz(func(t *testing.T, stream []byte) {
		n.ServeSync(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(stream), io.Discard}, nil)
	})
}

func TestOtherVersionIsRefusedByCode(t *testing.T) {
	n, g, _ := smallGroup(t)
	var in, out bytes.Buffer
	wire.WriteFrame(&in, wire.Encode(wire.Open{Version: wire.Version + 1, Group: g}))
	if _, _, err := n.ServeSync(struct {
		io.Reader
		io.Writer
	}{&in, &out}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := wire.ReadFrame(bufio.NewReader(&out))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := wire.Decode(f); m != (wire.Err{Code: wire.CodeVersion, Text: "this node speaks sync version 1"}) {
		t.Fatalf("answer to another version: %#v", m)
	}
}

func TestLeftGroupIsNotServed(t *testing.T) {
	a, b := newNode(t, false), newNode(t, false)
	g, _ := a.CreateGroup(openGenesis())
	if err := a.Leave(g, false); err != nil {
		t.Fatal(err)
	}
	if _, err := syncOver(t, b, a, g); err == nil || !strings.Contains(err.Error(), "does not hold the group") {
		t.Fatalf("a left group was served: %v", err)
	}
	if gs, _ := a.Replicated(); len(gs) != 0 {
		t.Fatalf("a left group is replicated: %v", gs)
	}
	if err := a.Leave(g, true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.Group(g); !errors.Is(err, group.ErrUnknownGroup) {
		t.Fatalf("after purge: %v", err)
	}
}
