package node

import (
	"sync"

	"hearsay/internal/entry"
	"hearsay/internal/hlc"
	"hearsay/internal/store"
)

// Stored tells a subscriber of an entry newly stored, from any source.
type Stored struct {
	Group, ID entry.ID
	Kind      string
	HLC       hlc.Timestamp
}

// subscribers fan stored entries out to live readers (the API's event
// streams).
type subscribers struct {
	mu   sync.Mutex
	next int
	subs map[int]chan Stored
}

// Subscribe delivers every entry stored from now on, until cancel is
// called. A subscriber that falls more than buf entries behind has its
// channel closed: it should read the state afresh and subscribe again.
func (n *Node) Subscribe(buf int) (<-chan Stored, func()) {
	s := &n.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs = map[int]chan Stored{}
	}
	id := s.next
	s.next++
	ch := make(chan Stored, buf)
	s.subs[id] = ch
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if c, ok := s.subs[id]; ok {
			close(c)
			delete(s.subs, id)
		}
	}
}

// publish tells the subscribers of what an ingest stored.
func (n *Node) publish(outs []store.Outcome) {
	s := &n.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range outs {
		if !o.Stored() {
			continue
		}
		for id, ch := range s.subs {
			select {
			case ch <- Stored{Group: o.Group, ID: o.ID, Kind: o.Kind, HLC: o.HLC}:
			default:
				close(ch)
				delete(s.subs, id)
			}
		}
	}
}
