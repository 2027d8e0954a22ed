package plumtree

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// script reads a fuzzer's bytes as a sequence of inputs; past the end it
// reads zeros.
type script struct{ *bytes.Reader }

func (s script) byte() byte { c, _ := s.ReadByte(); return c }

var fuzzPeers = []PeerID{"a", "b", "c", "d", "e", "f"}

func (s script) peer() PeerID { return fuzzPeers[int(s.byte())%len(fuzzPeers)] }

// id draws from a few ids spread over the id space, so that some are
// pruning tokens and some are not.
func (s script) id() MessageID {
	return MessageID{[]byte{0x00, 0x20, 0x60, 0xa0, 0xff}[int(s.byte())%5]}
}

// FuzzState feeds one node's broadcast arbitrary messages from neighbours
// and strangers, neighbour changes, local broadcasts, and the timers it
// set, fired in any order, and checks after every step: it does not
// panic; its eager and lazy sets split the neighbours between them, each
// once; it tracks at most MaxMissing announced ids and as many promises;
// and it delivers a message at most once.
func FuzzState(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 3, 1, 0, 1, 1, 0, 1, 0, 2, 2, 1, 3, 1, 2, 1, 4, 0, 5, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		payloads := mapStore{}
		cfg := DefaultConfig()
		cfg.MaxMissing = 3 // fewer than the ids, so that the bound is reached
		s := New(cfg, payloads)
		up := map[PeerID]bool{}
		delivered := map[MessageID]bool{}
		var timers []Timer
		sc := script{bytes.NewReader(b)}
		for step := 0; sc.Len() > 0; step++ {
			var in Input
			switch sc.byte() % 9 {
			case 0:
				id := sc.id()
				if _, ok := payloads[id]; ok {
					continue // the node broadcasts only what it wrote
				}
				payloads[id] = []byte{id[0]}
				delivered[id] = true
				in = Broadcast{ID: id, Payload: payloads[id]}
			case 1:
				id := sc.id()
				in = Receive{From: sc.peer(), Msg: Gossip{ID: id, Payload: []byte{id[0]}, Round: int(sc.byte())}}
			case 2:
				anns := make([]Announcement, int(sc.byte())%4)
				for i := range anns {
					anns[i] = Announcement{ID: sc.id(), Round: int(sc.byte())}
				}
				in = Receive{From: sc.peer(), Msg: IHave{Announced: anns}}
			case 3:
				in = Receive{From: sc.peer(), Msg: Graft{ID: sc.id(), Round: int(sc.byte())}}
			case 4:
				in = Receive{From: sc.peer(), Msg: Prune{}}
			case 5:
				p := sc.peer()
				up[p] = true
				in = NeighborUp{Peer: p}
			case 6:
				p := sc.peer()
				delete(up, p)
				in = NeighborDown{Peer: p}
			default:
				if len(timers) == 0 {
					continue
				}
				k := int(sc.byte()) % len(timers)
				in = TimerFired{Timer: timers[k]}
				timers = slices.Delete(timers, k, k+1)
			}
			for _, o := range s.Step(in) {
				switch o := o.(type) {
				case SetTimer:
					timers = append(timers, o.Timer)
				case Deliver:
					if delivered[o.ID] {
						t.Fatalf("step %d, %#v: %x delivered again", step, in, o.ID[:1])
					}
					delivered[o.ID] = true
					payloads[o.ID] = o.Payload
				}
			}
			if len(s.armed) > cfg.MaxMissing || len(s.missing) > len(s.armed) || len(s.promises) > cfg.MaxMissing {
				t.Fatalf("step %d, %#v: %d ids armed, %d missing, %d promises, bound %d", step, in, len(s.armed), len(s.missing), len(s.promises), cfg.MaxMissing)
			}
			for _, m := range []map[PeerID]bool{s.grafted, s.fed} {
				for p := range m {
					if !up[p] {
						t.Fatalf("step %d, %#v: tree state about %s, not a neighbour", step, in, p)
					}
				}
			}
			if err := peerSets(s, up); err != nil {
				t.Fatalf("step %d, %#v: %v", step, in, err)
			}
		}
	})
}

func peerSets(s *State, up map[PeerID]bool) error {
	eager, lazy := s.Eager(), s.Lazy()
	if len(eager)+len(lazy) != len(up) {
		return fmt.Errorf("eager %v, lazy %v, neighbours %v", eager, lazy, up)
	}
	all := append(eager, lazy...)
	for i, p := range all {
		if !up[p] || slices.Contains(all[i+1:], p) {
			return fmt.Errorf("eager %v, lazy %v, neighbours %v", eager, lazy, up)
		}
	}
	return nil
}
