package topic

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
)

// script reads a fuzzer's bytes as a sequence of inputs; past the end it
// reads zeros.
type script struct{ *bytes.Reader }

func (s script) byte() byte { c, _ := s.ReadByte(); return c }

// fuzzPeers are the names a script draws from: the node itself among them,
// since a peer may name it anywhere.
var fuzzPeers = []PeerID{"self", "a", "b", "c", "d", "e", "f", "g", "h"}

func (s script) peer() PeerID { return fuzzPeers[int(s.byte())%len(fuzzPeers)] }

func (s script) peers() []PeerID {
	ps := make([]PeerID, int(s.byte())%6)
	for i := range ps {
		ps[i] = s.peer()
	}
	return ps
}

// id draws one of four message ids, so that copies and grafts meet.
func (s script) id() plumtree.MessageID { return plumtree.MessageID{s.byte() % 4} }

// input is the next input: anything a peer can send, any timer, any
// answer of the driver's at any time, bans and their ends, demotions.
func (s script) input(now time.Time) Input {
	from := s.peer()
	switch s.byte() % 24 {
	case 0:
		return Join{Contact: from}
	case 1:
		return Meet{Peer: from}
	case 2:
		return Receive{From: from, Overlay: hyparview.Join{}}
	case 3:
		return Receive{From: from, Overlay: hyparview.ForwardJoin{Peer: s.peer(), TTL: int(s.byte() % 8)}}
	case 4:
		return Receive{From: from, Overlay: hyparview.Neighbor{High: s.byte()%2 == 0}}
	case 5:
		return Receive{From: from, Overlay: hyparview.NeighborReply{Accept: s.byte()%2 == 0}}
	case 6:
		return Receive{From: from, Overlay: hyparview.Disconnect{}}
	case 7:
		return Receive{From: from, Overlay: hyparview.Shuffle{Origin: s.peer(), TTL: int(s.byte() % 8), Peers: s.peers()}}
	case 8:
		return Receive{From: from, Overlay: hyparview.ShuffleReply{Peers: s.peers()}}
	case 9:
		return Receive{From: from, Broadcast: plumtree.Gossip{ID: s.id(), Round: int(s.byte() % 4)}}
	case 10:
		return Receive{From: from, Broadcast: plumtree.IHave{Announced: []plumtree.Announcement{{ID: s.id()}}}}
	case 11:
		return Receive{From: from, Broadcast: plumtree.Graft{ID: s.id()}}
	case 12:
		return Receive{From: from, Broadcast: plumtree.Prune{}}
	case 13:
		v := s.byte() % 3
		return Admitted{From: from, Msg: plumtree.Gossip{ID: s.id()}, OK: v == 0, Future: v == 1}
	case 14:
		return Broadcast{ID: s.id()}
	case 15:
		return TimerFired{Timer: Timer{Overlay: hyparview.Timer(1 + s.byte()%3)}}
	case 16:
		return TimerFired{Timer: Timer{Broadcast: plumtree.Timer{Kind: plumtree.TimerKind(1 + s.byte()%4), ID: s.id()}}}
	case 17:
		return PeerDown{Peer: from}
	case 18:
		return Measured{Peer: from, RTT: time.Duration(s.byte()) * time.Millisecond}
	case 19:
		return Round{Candidates: s.peers(), Prefer: s.peers()}
	case 20:
		return SyncDone{Peer: from, Received: int(s.byte() % 3)}
	case 21:
		return SyncFailed{Peer: from, Unreachable: s.byte()%2 == 0}
	case 22:
		return Found{Peers: s.peers()}
	default:
		switch s.byte() % 4 {
		case 0:
			return Unban{Peer: from}
		case 1:
			return Demote{Peer: from}
		}
		return Ban{Peer: from, Until: now.Add(time.Duration(s.byte()) * time.Second)}
	}
}

// FuzzState feeds one node's core arbitrary inputs, with time passing
// between them, and checks after every step that it does not panic, that
// its invariants hold (State.Check: views within bounds, broadcast state
// about neighbours only), and that no output goes to itself or to a peer
// banned at the time.
func FuzzState(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 4, 0, 0, 2, 4, 0, 0, 3, 9, 1, 0, 0, 1, 13, 1, 0, 0, 4, 23, 1, 5, 0, 1, 19, 3, 1, 2, 3, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := DefaultConfig()
		cfg.Overlay.ActiveSize, cfg.Overlay.PassiveSize = 3, 4 // small enough to fill and evict
		cfg.MaxMembers, cfg.MaxBans = 3, 2
		s := New(cfg, "self", rand.New(rand.NewPCG(1, 2)), payloads{{1}: []byte("one")})
		now := t0
		s.Step(now, Start{})
		sc := script{bytes.NewReader(b)}
		for step := 0; sc.Len() > 0; step++ {
			now = now.Add(time.Duration(sc.byte()) * 100 * time.Millisecond)
			in := sc.input(now)
			for _, o := range s.Step(now, in) {
				var to PeerID
				switch o := o.(type) {
				case Send:
					to = o.To
					if (o.Overlay == nil) == (o.Broadcast == nil) {
						t.Fatalf("step %d, %#v: a send of both or neither: %#v", step, in, o)
					}
				case Reconcile:
					to = o.Peer
				case Measure:
					to = o.Peer
				}
				if to == "self" || to != "" && s.Banned(to, now) {
					t.Fatalf("step %d, %#v: output %#v to itself or a banned peer", step, in, o)
				}
			}
			if err := s.Check(); err != nil {
				t.Fatalf("step %d, %#v: %v", step, in, err)
			}
		}
	})
}
