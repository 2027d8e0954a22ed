package hyparview

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
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

// input is the next input: anything a peer can send (the decoder only
// bounds sizes), any timer at any time, measurements, failures, drops and
// suggestions of any peer; or nil, having changed the driver's keep or
// shared set instead.
func (s script) input(keep, shared map[PeerID]bool) Input {
	from := s.peer()
	switch s.byte() % 19 {
	case 0:
		return JoinVia{Contact: from}
	case 1:
		return Receive{From: from, Msg: Join{}}
	case 2:
		return Receive{From: from, Msg: ForwardJoin{Peer: s.peer(), TTL: int(s.byte() % 8)}}
	case 3:
		return Receive{From: from, Msg: Neighbor{High: s.byte()%2 == 0}}
	case 4:
		return Receive{From: from, Msg: NeighborReply{Accept: s.byte()%2 == 0}}
	case 5:
		var suggest PeerID
		if s.byte()%2 == 0 {
			suggest = s.peer()
		}
		return Receive{From: from, Msg: Disconnect{Suggest: suggest}}
	case 6:
		return Receive{From: from, Msg: Shuffle{Origin: s.peer(), TTL: int(s.byte() % 8), Peers: s.peers()}}
	case 7:
		return Receive{From: from, Msg: ShuffleReply{Peers: s.peers()}}
	case 8:
		return Receive{From: from, Msg: Optimize{RTT: time.Duration(s.byte()) * time.Millisecond}}
	case 9:
		var dropped PeerID
		if s.byte()%2 == 0 {
			dropped = s.peer()
		}
		return Receive{From: from, Msg: OptimizeReply{Accept: s.byte()%2 == 0, Dropped: dropped}}
	case 10:
		return TimerFired{Timer: ShuffleTimer}
	case 11:
		return TimerFired{Timer: RepairTimer}
	case 12:
		return TimerFired{Timer: OptimizeTimer}
	case 13:
		return Measured{Peer: from, RTT: time.Duration(s.byte()) * time.Millisecond}
	case 14:
		return PeerDown{Peer: from}
	case 15:
		return Drop{Peer: from}
	case 16:
		return Suggest{Peer: from}
	case 17:
		shared[from] = !shared[from]
		return nil
	default:
		keep[from] = !keep[from]
		return nil
	}
}

// FuzzState feeds one node's overlay arbitrary inputs and checks, after
// every step, what its driver and the broadcast rely on: it does not panic;
// the views hold no duplicate, not the node itself, and are disjoint and
// within their bounds; NeighborUp and NeighborDown track the active view
// exactly; and the node sends nothing to itself.
func FuzzState(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 1, 2, 3, 0, 3, 3, 4, 0, 10, 0, 11, 0, 12, 0, 13, 1, 9, 12, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := DefaultConfig()
		cfg.ActiveSize, cfg.PassiveSize = 3, 4 // small enough for the fuzzer to fill and evict
		s := New(cfg, "self", rand.New(rand.NewPCG(1, 2)))
		keep, shared := map[PeerID]bool{}, map[PeerID]bool{}
		s.Keep(func(p PeerID) bool { return keep[p] })
		s.Shared(func(p PeerID) bool { return shared[p] })
		s.Start()
		up := map[PeerID]bool{}
		sc := script{bytes.NewReader(b)}
		for step := 0; sc.Len() > 0; step++ {
			in := sc.input(keep, shared)
			if in == nil {
				continue
			}
			for _, o := range s.Step(in) {
				switch o := o.(type) {
				case NeighborUp:
					if up[o.Peer] {
						t.Fatalf("step %d, %#v: %s up twice", step, in, o.Peer)
					}
					up[o.Peer] = true
				case NeighborDown:
					if !up[o.Peer] {
						t.Fatalf("step %d, %#v: %s down but not up", step, in, o.Peer)
					}
					delete(up, o.Peer)
				case Send:
					if o.To == "self" {
						t.Fatalf("step %d, %#v: sends %#v to itself", step, in, o.Msg)
					}
				}
			}
			if err := wellFormed(s, cfg, up); err != nil {
				t.Fatalf("step %d, %#v: %v", step, in, err)
			}
		}
	})
}

func wellFormed(s *State, cfg Config, up map[PeerID]bool) error {
	active, passive := s.Active(), s.Passive()
	switch {
	case len(active) > cfg.ActiveSize:
		return fmt.Errorf("active view %v over %d", active, cfg.ActiveSize)
	case len(passive) > cfg.PassiveSize:
		return fmt.Errorf("passive view %v over %d", passive, cfg.PassiveSize)
	case slices.Contains(active, "self") || slices.Contains(passive, "self"):
		return fmt.Errorf("the node in its own views: %v %v", active, passive)
	case len(active) != len(up):
		return fmt.Errorf("active view %v, but neighbours up %v", active, up)
	}
	for i, p := range active {
		if !up[p] || slices.Contains(active[i+1:], p) || slices.Contains(passive, p) {
			return fmt.Errorf("active %v, passive %v, up %v", active, passive, up)
		}
	}
	for i, p := range passive {
		if slices.Contains(passive[i+1:], p) {
			return fmt.Errorf("passive view %v holds %s twice", passive, p)
		}
	}
	return nil
}
