package wire

import (
	"encoding/binary"
	"fmt"
)

// RegistryProtocol asks a registry node (serve --registry) for the nodes a
// newcomer should meet: the members of a group, or the nodes near it
// (docs/protocol.md §14). One RegistryAsk and one RegistryPeers per stream.
const RegistryProtocol = "/hearsay/registry/1"

// MaxRegistryPeers bounds the nodes of one answer.
const MaxRegistryPeers = 32

// RegistryAsk asks for the members of Group (the providers the registry
// holds for its DHT key), or, with Group zero, for the nodes it knows, by
// the round trip it measured to each. Limit (1 to MaxRegistryPeers) bounds
// the answer.
type RegistryAsk struct {
	Group [32]byte
	Limit int
}

// RegistryPeer is a node the registry names: its peer id (bytes), up to
// MaxAddrs addresses (bytes), and the registry's round trip to it in
// microseconds (0: not measured).
type RegistryPeer struct {
	ID    []byte
	Addrs [][]byte
	RTTus uint64
}

// RegistryPeers answers a RegistryAsk; AskerRTTus is the registry's round
// trip to the asker (0: not measured), which the asker may compare with
// the others'.
type RegistryPeers struct {
	Peers      []RegistryPeer
	AskerRTTus uint64
}

// EncodeRegistryAsk encodes an ask.
func EncodeRegistryAsk(m RegistryAsk) []byte {
	return binary.AppendUvarint(append([]byte(nil), m.Group[:]...), uint64(m.Limit))
}

// DecodeRegistryAsk decodes an ask.
func DecodeRegistryAsk(b []byte) (RegistryAsk, error) {
	var m RegistryAsk
	if len(b) < 33 {
		return m, fmt.Errorf("%w: registry ask of %d bytes", ErrMalformed, len(b))
	}
	copy(m.Group[:], b)
	d := &reader{b: b[32:]}
	m.Limit = d.uint(MaxRegistryPeers, "limit")
	if d.err == nil && (m.Limit < 1 || len(d.b) > 0) {
		d.fail("registry ask")
	}
	return m, d.err
}

// EncodeRegistryPeers encodes an answer; it refuses one over the limits.
func EncodeRegistryPeers(m RegistryPeers) ([]byte, error) {
	if len(m.Peers) > MaxRegistryPeers {
		return nil, fmt.Errorf("%d peers in a registry answer, at most %d", len(m.Peers), MaxRegistryPeers)
	}
	b := binary.AppendUvarint(nil, m.AskerRTTus)
	b = binary.AppendUvarint(b, uint64(len(m.Peers)))
	for _, p := range m.Peers {
		if len(p.ID) == 0 || len(p.ID) > maxPeerID || len(p.Addrs) > MaxAddrs {
			return nil, fmt.Errorf("a registry answer's peer: id of %d bytes, %d addresses", len(p.ID), len(p.Addrs))
		}
		b = appendBytes(b, p.ID)
		b = binary.AppendUvarint(b, uint64(len(p.Addrs)))
		for _, a := range p.Addrs {
			if len(a) == 0 || len(a) > maxAddr {
				return nil, fmt.Errorf("a registry answer's address of %d bytes", len(a))
			}
			b = appendBytes(b, a)
		}
		b = binary.AppendUvarint(b, p.RTTus)
	}
	return b, nil
}

// maxRTTus bounds a round trip: an hour.
const maxRTTus = 3600 * 1000 * 1000

// DecodeRegistryPeers decodes an answer.
func DecodeRegistryPeers(b []byte) (RegistryPeers, error) {
	var m RegistryPeers
	d := &reader{b: b}
	m.AskerRTTus = uint64(d.uint(maxRTTus, "round trip"))
	n := d.uint(MaxRegistryPeers, "peer count")
	for range n {
		p := RegistryPeer{ID: d.bytes(1, maxPeerID, "peer id")}
		k := d.uint(MaxAddrs, "address count")
		for range k {
			p.Addrs = append(p.Addrs, d.bytes(1, maxAddr, "address"))
		}
		p.RTTus = uint64(d.uint(maxRTTus, "round trip"))
		if d.err != nil {
			return RegistryPeers{}, d.err
		}
		m.Peers = append(m.Peers, p)
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after a registry answer", len(d.b))
	}
	if d.err != nil {
		return RegistryPeers{}, d.err
	}
	return m, nil
}
