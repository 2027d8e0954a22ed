package score

import (
	"math"
	"net/netip"
	"time"
)

// Range is the address range colocation counts by: an IPv4 /24, an IPv6
// /48 (what one site is typically given); none for loopback, private
// (RFC 1918, ULA), link-local, unspecified or invalid addresses: the
// peers there are on this node's own machine or network.
func Range(a netip.Addr) (netip.Prefix, bool) {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() {
		return netip.Prefix{}, false
	}
	bits := 24
	if a.Is6() {
		bits = 48
	}
	pf, err := a.Prefix(bits)
	return pf, err == nil
}

// Connected notes a connection to p from address a, for colocation; the
// first connection puts p in a's range.
func (t *Table) Connected(p PeerID, a netip.Addr, now time.Time) {
	s := t.state(p, now)
	s.conns++
	if s.conns > 1 {
		return
	}
	pf, ok := Range(a)
	if !ok {
		s.rng = netip.Prefix{}
		return
	}
	s.rng = pf
	t.ranges[pf]++
}

// Disconnected notes that a connection to p closed.
func (t *Table) Disconnected(p PeerID) {
	s, ok := t.peers[p]
	if !ok || s.conns == 0 {
		return
	}
	s.conns--
	if s.conns == 0 && s.rng.IsValid() {
		t.leaveRange(s.rng)
	}
}

func (t *Table) leaveRange(pf netip.Prefix) {
	if t.ranges[pf] <= 1 {
		delete(t.ranges, pf)
		return
	}
	t.ranges[pf]--
}

// colocation is s's P6 term: the weight times the square of its range's
// excess over the threshold, at least the floor.
func (t *Table) colocation(s *peerState) float64 {
	if s.conns == 0 || !s.rng.IsValid() {
		return 0
	}
	excess := t.ranges[s.rng] - t.p.ColocationThreshold
	if excess <= 0 {
		return 0
	}
	return math.Max(t.p.ColocationWeight*float64(excess)*float64(excess), t.p.ColocationFloor)
}
