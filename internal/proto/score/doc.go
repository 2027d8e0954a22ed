// Package score keeps each peer's score, after GossipSub v1.1's peer
// scoring (Vyzovitis et al., "GossipSub: Attack-Resilient Message
// Propagation in the Filecoin and ETH2.0 Networks", 2020, §5; the
// libp2p gossipsub-v1.1 spec's P1–P7): decaying counters per peer and per
// named Part, each weighted, summed with an IP colocation term (P6), and
// compared with four thresholds that say what the node does with the peer
// (Level): nothing pushed to it, what it sends ignored, its connections
// closed, banned for a period that expires and doubles with each ban.
//
// One Table serves a whole node, not a group: a peer that floods one group
// with bad signatures is no better in another, and the connection gater,
// which bans for every protocol, knows no groups.
//
// The parts and their GossipSub counterparts:
//
//   - Delivered (P2, first message deliveries) and Served (served
//     reconciliations, which GossipSub has no sync to count) are positive,
//     each capped so that a peer cannot bank standing without bound;
//   - Invalid (P4, invalid messages: bad signatures, malformed frames,
//     out-of-turn messages) is severe;
//   - Inadmissible (valid entries the group's rules refuse: not allowed,
//     over quota), Flood (future-dated and duplicate floods, excess over a
//     rate limit, messages sent while graylisted) and Promises (P7,
//     behaviour: broken IHave promises, unanswered grafts) are moderate;
//   - Withheld (P3b-like, in spirit: refusing to serve what it announced)
//     is negative.
//
// The ban is decided on the penalties alone (the negative parts, not the
// positive ones nor colocation): standing earned by delivering buys no
// misbehaviour, and peers that share an address range are weighed less,
// never banned for it. The other thresholds compare the whole score.
//
// A Table does no I/O, starts no goroutine, takes no lock and reads no
// clock: now is an argument of every call that needs it; it holds at most
// Params.MaxPeers peers, forgetting the one with the least at stake beyond
// that. The caller serializes calls (the node holds a lock around it).
package score
