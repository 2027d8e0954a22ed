package node

import (
	"fmt"
	"io"

	"hearsay/internal/entry"
	"hearsay/internal/wire"
)

// Probes (docs/protocol.md §10): an anti-entropy round asks a peer, in one
// exchange, which of the groups it picked that peer for differ, and opens
// sessions for those only. In a quiet network nearly every group is in
// sync at every round, and a session each (open, ack, one Negentropy round
// each way) cost four messages and a stream per group; a probe costs two
// and a stream per peer.

// fingerprint is the size and §8 fingerprint of g's whole set here.
func (n *Node) fingerprint(g entry.ID) (wire.ProbeGroup, error) {
	gi, err := n.index(g)
	if err != nil {
		return wire.ProbeGroup{}, err
	}
	gi.mu.Lock()
	defer gi.mu.Unlock()
	size := gi.tree.Size()
	return wire.ProbeGroup{Group: g, Count: uint64(size), Fingerprint: gi.tree.Fingerprint(0, size)}, nil
}

// Probe asks the peer at the other end of rw which of groups (at most
// wire.MaxProbe, each held here) differ from this node's, and returns its
// verdicts in their order.
func (n *Node) Probe(rw io.ReadWriter, groups []entry.ID) ([]wire.Verdict, error) {
	if len(groups) == 0 || len(groups) > wire.MaxProbe {
		return nil, fmt.Errorf("probe of %d groups: want 1 to %d", len(groups), wire.MaxProbe)
	}
	p := wire.Probe{Version: wire.Version}
	for _, g := range groups {
		pg, err := n.fingerprint(g)
		if err != nil {
			return nil, err
		}
		p.Groups = append(p.Groups, pg)
	}
	n.stats.rounds.Add(1)
	reply, err := newConn(counted{rw, &n.stats}).ask(p)
	if err != nil {
		return nil, err
	}
	r, ok := reply.(wire.ProbeReply)
	if !ok {
		return nil, fmt.Errorf("%w: %T in answer to probe", wire.ErrOutOfTurn, reply)
	}
	if len(r.Verdicts) != len(groups) {
		return nil, fmt.Errorf("%w: %d verdicts for %d groups", wire.ErrOutOfTurn, len(r.Verdicts), len(groups))
	}
	return r.Verdicts, nil
}

// serveProbe answers a probe, asking admit (as ServeSync does for a
// session) before it compares a group held here, and returns the groups
// found the same: for this node, sessions that ended well.
func (n *Node) serveProbe(c *conn, p wire.Probe, admit func(g entry.ID) error) ([]entry.ID, error) {
	if p.Version != wire.Version {
		return nil, c.send(wire.Err{Code: wire.CodeVersion, Text: fmt.Sprintf("this node speaks sync version %d", wire.Version)})
	}
	var same []entry.ID
	r := wire.ProbeReply{Verdicts: make([]wire.Verdict, len(p.Groups))}
	for i, pg := range p.Groups {
		v, err := n.judge(pg, admit)
		if err != nil {
			return nil, err
		}
		if v == wire.Same {
			same = append(same, pg.Group)
		}
		r.Verdicts[i] = v
	}
	n.stats.rounds.Add(1)
	n.writes.yield()
	return same, c.send(r)
}

// judge compares one probed group with this node's.
func (n *Node) judge(pg wire.ProbeGroup, admit func(g entry.ID) error) (wire.Verdict, error) {
	serves, err := n.servesPeers(pg.Group)
	if err != nil {
		return 0, err
	}
	if !serves {
		return wire.Unknown, nil
	}
	if admit != nil && admit(pg.Group) != nil {
		return wire.Busy, nil
	}
	n.writes.yield()
	mine, err := n.fingerprint(pg.Group)
	if err != nil {
		return 0, err
	}
	if mine.Count == pg.Count && mine.Fingerprint == pg.Fingerprint {
		return wire.Same, nil
	}
	return wire.Differs, nil
}
