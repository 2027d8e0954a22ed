package gossip

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/host"
	libp2pconnmgr "github.com/libp2p/go-libp2p/p2p/net/connmgr"
)

// managedHost gives a mocknet host (whose connection manager does nothing)
// a real one.
type managedHost struct {
	host.Host
	cm connmgr.ConnManager
}

func (h managedHost) ConnManager() connmgr.ConnManager { return h.cm }

// TestOverlayLinksAreProtected: a neighbour in a group's overlay is
// protected from the connection manager's trimming while it is one, and no
// longer once the node leaves the group.
func TestOverlayLinksAreProtected(t *testing.T) {
	nw := newNetwork(t, 2, 1, 0, 0, 5)
	a := newAuthor(9)
	cm, err := libp2pconnmgr.NewConnManager(1, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cm.Close() })
	ga := New(managedHost{nw.hosts[0], cm}, newMemNode(a.gid), DefaultConfig())
	gb := New(nw.hosts[1], newMemNode(a.gid), DefaultConfig())
	t.Cleanup(ga.Close)
	t.Cleanup(gb.Close)
	b := nw.hosts[1].ID()
	if cm.IsProtected(b, "") {
		t.Fatal("a peer was protected before it was a neighbour")
	}
	gb.Join(a.gid, nw.hosts[0].ID())
	if !waitFor(5*time.Second, func() bool { return len(ga.Neighbours(a.gid)) == 1 }) {
		t.Fatal("no overlay formed")
	}
	if !cm.IsProtected(b, overlayTag(a.gid)) {
		t.Fatal("a neighbour in the overlay is not protected from trimming")
	}
	ga.Leave(a.gid)
	if cm.IsProtected(b, "") {
		t.Fatal("a neighbour of a group the node left is still protected")
	}
}
