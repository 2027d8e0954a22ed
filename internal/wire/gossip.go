package wire

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
)

// GossipProtocol carries, on one long-lived stream per direction and peer,
// the per-group overlay (HyParView) and broadcast (Plumtree) messages.
// docs/protocol.md §11 specifies it.
const GossipProtocol = "/hearsay/gossip/1"

// Gossip limits. A shuffle names at most MaxPeers peers, each with at most
// MaxAddrs addresses; an IHave announces at most MaxAnnounced ids.
const (
	MaxPeers     = 64
	MaxAddrs     = 8
	MaxAnnounced = 4096
	maxPeerID    = 64
	maxAddr      = 256
	maxTTL       = 255
	maxRound     = 1 << 16
	maxRTTMicros = 60_000_000
)

// Gossip is one message of the gossip protocol: an overlay message, a
// broadcast message or a list of groups held (exactly one is set) for a
// group. Addrs carries the addresses the sender knows for the peers the
// overlay message names, so that the receiver can dial them: peer exchange
// rides on the overlay.
//
// Holds is sent once over a new link (the first group the two peers
// became neighbours in, Group): the keys (GroupDigest) of the other groups
// the sender holds, so that the receiver's overlays of the groups both
// hold can prefer the link (proto/hyparview's shared.go). A key says no
// more than the group's provider record in the DHT says to anyone.
type Gossip struct {
	Group     entry.ID
	Overlay   hyparview.Message
	Broadcast plumtree.Message
	Holds     []GroupDigest
	Addrs     map[hyparview.PeerID][][]byte
}

// GroupDigest is a group's key in the DHT and in Holds: SHA-256 of
// "hearsay/group/v1/" and the group id.
type GroupDigest [32]byte

// DigestOf is group g's GroupDigest.
func DigestOf(g entry.ID) GroupDigest {
	return sha256.Sum256(append([]byte("hearsay/group/v1/"), g[:]...))
}

// MaxHolds bounds the groups a Holds lists.
const MaxHolds = 1024

const (
	tagJoin          = 0x20
	tagForwardJoin   = 0x21
	tagNeighbor      = 0x22
	tagNeighborReply = 0x23
	tagDisconnect    = 0x24
	tagShuffle       = 0x25
	tagShuffleReply  = 0x26
	tagOptimize      = 0x27
	tagOptimizeReply = 0x28
	tagHolds         = 0x29
	tagGossip        = 0x30
	tagIHave         = 0x31
	tagGraft         = 0x32
	tagPrune         = 0x33
)

// EncodeGossip encodes a gossip message. It refuses what the decoder would
// refuse, so a node never sends a message its peers must drop.
func EncodeGossip(m Gossip) ([]byte, error) {
	var tag byte
	var b []byte
	named := map[hyparview.PeerID]bool{}
	peer := func(p hyparview.PeerID) {
		addrs := m.Addrs[p]
		if len(addrs) > MaxAddrs {
			addrs = addrs[:MaxAddrs]
		}
		if named[p] { // addresses go with a peer's first mention only
			addrs = nil
		}
		named[p] = true
		b = appendBytes(b, []byte(p))
		b = binary.AppendUvarint(b, uint64(len(addrs)))
		for _, a := range addrs {
			b = appendBytes(b, a)
		}
	}
	maybePeer := func(p hyparview.PeerID) {
		b = appendBool(b, p != "")
		if p != "" {
			peer(p)
		}
	}
	peers := func(ps []hyparview.PeerID) {
		b = binary.AppendUvarint(b, uint64(len(ps)))
		for _, p := range ps {
			peer(p)
		}
	}
	switch o := m.Overlay.(type) {
	case nil:
	case hyparview.Join:
		tag = tagJoin
	case hyparview.ForwardJoin:
		tag = tagForwardJoin
		peer(o.Peer)
		b = binary.AppendUvarint(b, uint64(o.TTL))
	case hyparview.Neighbor:
		tag = tagNeighbor
		b = appendBool(b, o.High)
	case hyparview.NeighborReply:
		tag = tagNeighborReply
		b = appendBool(b, o.Accept)
	case hyparview.Disconnect:
		tag = tagDisconnect
		maybePeer(o.Suggest)
	case hyparview.Shuffle:
		tag = tagShuffle
		peer(o.Origin)
		b = binary.AppendUvarint(b, uint64(o.TTL))
		peers(o.Peers)
	case hyparview.ShuffleReply:
		tag = tagShuffleReply
		peers(o.Peers)
	case hyparview.Optimize:
		tag = tagOptimize
		b = binary.AppendUvarint(b, uint64(min(max(o.RTT, 0), maxRTTMicros*time.Microsecond)/time.Microsecond))
	case hyparview.OptimizeReply:
		tag = tagOptimizeReply
		b = appendBool(b, o.Accept)
		maybePeer(o.Dropped)
	default:
		return nil, fmt.Errorf("unknown overlay message %T", o)
	}
	switch p := m.Broadcast.(type) {
	case nil:
	case plumtree.Gossip:
		tag = tagGossip
		b = append(b, p.ID[:]...)
		b = binary.AppendUvarint(b, uint64(p.Round))
		b = appendBytes(b, p.Payload)
	case plumtree.IHave:
		tag = tagIHave
		b = binary.AppendUvarint(b, uint64(len(p.Announced)))
		for _, a := range p.Announced {
			b = append(b, a.ID[:]...)
			b = binary.AppendUvarint(b, uint64(a.Round))
		}
	case plumtree.Graft:
		tag = tagGraft
		b = append(b, p.ID[:]...)
		b = binary.AppendUvarint(b, uint64(p.Round))
	case plumtree.Prune:
		tag = tagPrune
	default:
		return nil, fmt.Errorf("unknown broadcast message %T", p)
	}
	if m.Holds != nil {
		tag = tagHolds
		b = binary.AppendUvarint(b, uint64(len(m.Holds)))
		for _, h := range m.Holds {
			b = append(b, h[:]...)
		}
	}
	if kinds := btoi(m.Overlay != nil) + btoi(m.Broadcast != nil) + btoi(m.Holds != nil); kinds != 1 {
		return nil, fmt.Errorf("a gossip message carries exactly one of an overlay message, a broadcast message and a list of groups held")
	}
	out := append(append([]byte{tag}, m.Group[:]...), b...)
	if _, err := DecodeGossip(out); err != nil {
		return nil, fmt.Errorf("unsendable: %w", err)
	}
	return out, nil
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// DecodeGossip decodes a gossip message.
func DecodeGossip(b []byte) (Gossip, error) {
	if len(b) < 33 {
		return Gossip{}, fmt.Errorf("%w: gossip message of %d bytes", ErrMalformed, len(b))
	}
	d := &reader{b: b[33:]}
	m := Gossip{Group: entry.ID(b[1:33])}
	switch b[0] {
	case tagJoin:
		m.Overlay = hyparview.Join{}
	case tagForwardJoin:
		p := d.peer(&m)
		m.Overlay = hyparview.ForwardJoin{Peer: p, TTL: d.uint(maxTTL, "ttl")}
	case tagNeighbor:
		m.Overlay = hyparview.Neighbor{High: d.bool()}
	case tagNeighborReply:
		m.Overlay = hyparview.NeighborReply{Accept: d.bool()}
	case tagDisconnect:
		m.Overlay = hyparview.Disconnect{Suggest: d.maybePeer(&m)}
	case tagShuffle:
		origin := d.peer(&m)
		m.Overlay = hyparview.Shuffle{Origin: origin, TTL: d.uint(maxTTL, "ttl"), Peers: d.peers(&m)}
	case tagShuffleReply:
		m.Overlay = hyparview.ShuffleReply{Peers: d.peers(&m)}
	case tagOptimize:
		m.Overlay = hyparview.Optimize{RTT: time.Duration(d.uint(maxRTTMicros, "rtt")) * time.Microsecond}
	case tagOptimizeReply:
		accept := d.bool()
		m.Overlay = hyparview.OptimizeReply{Accept: accept, Dropped: d.maybePeer(&m)}
	case tagGossip:
		id := d.id()
		round := d.uint(maxRound, "round")
		payload := d.bytes(1, entry.MaxEncoded, "payload")
		m.Broadcast = plumtree.Gossip{ID: id, Round: round, Payload: payload}
	case tagIHave:
		n := d.uint(MaxAnnounced, "announcements")
		var ih plumtree.IHave
		for range n {
			if d.err != nil {
				break
			}
			ih.Announced = append(ih.Announced, plumtree.Announcement{ID: d.id(), Round: d.uint(maxRound, "round")})
		}
		m.Broadcast = ih
	case tagGraft:
		id := d.id()
		m.Broadcast = plumtree.Graft{ID: id, Round: d.uint(maxRound, "round")}
	case tagPrune:
		m.Broadcast = plumtree.Prune{}
	case tagHolds:
		n := d.uint(MaxHolds, "groups held")
		if d.err == nil && (n == 0 || len(d.b) < 32*n) {
			d.fail("%d groups held in %d bytes", n, len(d.b))
		}
		for range n {
			if d.err != nil {
				break
			}
			m.Holds = append(m.Holds, GroupDigest(d.id()))
		}
	default:
		return Gossip{}, fmt.Errorf("%w: gossip message type %#x", ErrMalformed, b[0])
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the message", len(d.b))
	}
	if d.err != nil {
		return Gossip{}, d.err
	}
	return m, nil
}

// reader reads fields, keeping the first error; later reads return zeros.
type reader struct {
	b   []byte
	err error
}

func (d *reader) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	d.b = nil
}

func (d *reader) uint(max int, what string) int {
	v, k := binary.Uvarint(d.b)
	if k <= 0 || v > uint64(max) {
		d.fail("%s", what)
		return 0
	}
	d.b = d.b[k:]
	return int(v)
}

func (d *reader) bool() bool {
	if len(d.b) == 0 || d.b[0] > 1 {
		d.fail("boolean")
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func (d *reader) id() plumtree.MessageID {
	if len(d.b) < 32 {
		d.fail("id")
		return plumtree.MessageID{}
	}
	id := plumtree.MessageID(d.b)
	d.b = d.b[32:]
	return id
}

func (d *reader) bytes(min, max int, what string) []byte {
	n := d.uint(max, what+" length")
	if d.err != nil || n < min || n > len(d.b) {
		d.fail("%s length", what)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// peer reads a peer reference and records its addresses in m.
func (d *reader) peer(m *Gossip) hyparview.PeerID {
	p := hyparview.PeerID(d.bytes(1, maxPeerID, "peer id"))
	n := d.uint(MaxAddrs, "address count")
	var addrs [][]byte
	for range n {
		a := d.bytes(1, maxAddr, "address")
		if d.err != nil {
			return ""
		}
		addrs = append(addrs, a)
	}
	if d.err != nil {
		return ""
	}
	if m.Addrs == nil {
		m.Addrs = map[hyparview.PeerID][][]byte{}
	}
	if _, named := m.Addrs[p]; !named { // a later mention adds nothing
		m.Addrs[p] = addrs
	}
	return p
}

// maybePeer reads an optional peer reference.
func (d *reader) maybePeer(m *Gossip) hyparview.PeerID {
	if !d.bool() {
		return ""
	}
	return d.peer(m)
}

func (d *reader) peers(m *Gossip) []hyparview.PeerID {
	n := d.uint(MaxPeers, "peer count")
	var ps []hyparview.PeerID
	for range n {
		p := d.peer(m)
		if d.err != nil {
			return nil
		}
		ps = append(ps, p)
	}
	return ps
}
