package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/gossip"
	"hearsay/internal/proto/score"
	"hearsay/internal/transport"
	"hearsay/internal/wire"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	madns "github.com/multiformats/go-multiaddr-dns"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Network is the node on libp2p: it pushes writes through each group's
// overlay (package gossip), answers sync sessions and starts them, and keeps
// what `status` and `peers` report.
type Network struct {
	n            *Node
	Host         host.Host
	bw           *metrics.BandwidthCounter
	gossip       *gossip.Gossip
	dht          *dht.IpfsDHT
	ann          *announcer
	cfg          NetConfig
	reach        *transport.Reach           // how the host is reached (reach.go)
	mdns         interface{ Close() error } // nil: no mDNS
	resolver     *madns.Resolver            // for /dnsaddr/ bootstrap names
	stopRegistry func()                     // nil: not a registry
	blobs        *blobs                     // files: shards held for peers, the ledger, /hearsay/blob/1

	bans      *bans          // each peer's misbehaviour and bans (bans.go)
	sessions  *sessionLimits // how fast peers and groups are served sessions (synclimits.go)
	dials     backoffs       // known peers that did not answer (reconnect.go)
	redialing atomic.Bool    // a redial runs
	saving    sync.Mutex     // held while the bans are written to the home

	// serving counts the sync sessions being answered, which Close waits
	// for: one may be storing entries, and the store closes after.
	serving sync.WaitGroup

	mu            sync.Mutex
	closing       bool                               // Close began: answer no more sessions
	synced        map[entry.ID]map[peer.ID]time.Time // per group, each peer's last sync
	known         map[peer.ID]bool                   // peers met since start, and remembered ones
	registriesMet map[peer.ID]bool                   // registries asked for nodes nearby
	met           chan peer.ID                       // peers newly connected, for the runtime to greet
}

// StartNetwork starts the node's libp2p host on the listen addresses (none:
// it only dials) and serves the sync protocol on it. It makes no attempt to
// be reached from behind a NAT: a serving node starts with StartNetworkWith.
func (n *Node) StartNetwork(listen []string) (*Network, error) {
	return n.StartNetworkWith(NetConfig{Listen: listen})
}

// StartNetworkWith starts the node's libp2p host as cfg says.
func (n *Node) StartNetworkWith(cfg NetConfig) (*Network, error) {
	if onlyLoopback(cfg.Listen) {
		cfg.PortMap, cfg.MDNS = false, false
	}
	resolver, err := transport.NewResolver(cfg.DNS)
	if err != nil {
		return nil, err
	}
	bw := metrics.NewBandwidthCounter()
	bs := newBans()
	bs.load(n.Home.Bans(), n.now())
	h, reach, err := transport.New(n.Home.Key, transport.Options{Listen: cfg.Listen, Bandwidth: bw,
		Allow: func(p peer.ID) bool { return !bs.banned(p, n.now()) },
		Reach: cfg.Reach, Reachability: cfg.Reachability, PortMap: cfg.PortMap, Relay: cfg.Relay, Resolver: resolver,
		Limits: hostLimits()})
	if err != nil {
		return nil, err
	}
	rates := DefaultSessionRates()
	if cfg.Sessions != nil {
		rates = *cfg.Sessions
	}
	nw := &Network{n: n, Host: h, bw: bw, bans: bs, sessions: newSessionLimits(rates), cfg: cfg, reach: reach, resolver: resolver,
		synced: map[entry.ID]map[peer.ID]time.Time{}, known: map[peer.ID]bool{}, registriesMet: map[peer.ID]bool{}, met: make(chan peer.ID, 64)}
	h.Network().Notify(&network.NotifyBundle{ConnectedF: func(net network.Network, c network.Conn) {
		p := c.RemotePeer()
		nw.mu.Lock()
		nw.known[p] = true
		nw.mu.Unlock()
		if len(net.ConnsToPeer(p)) <= 1 { // its first live connection: greet it
			select {
			case nw.met <- p:
			default: // the periodic round will reach it
			}
		}
		if a, err := manet.ToIP(c.RemoteMultiaddr()); err == nil {
			if ip, ok := netip.AddrFromSlice(a); ok {
				bs.connected(p, ip, n.now())
			}
		}
		nw.dropRelayed(c)
	}, DisconnectedF: func(_ network.Network, c network.Conn) {
		bs.disconnected(c.RemotePeer())
	}})
	fail := func(err error) (*Network, error) {
		reach.Close()
		h.Close()
		return nil, err
	}
	if err := startDHT(nw); err != nil {
		return fail(err)
	}
	if nw.blobs, err = startBlobs(nw); err != nil {
		nw.dht.Close()
		return fail(err)
	}
	if cfg.MDNS {
		if err := nw.startLAN(); err != nil {
			nw.blobs.close()
			nw.dht.Close()
			return fail(fmt.Errorf("mDNS: %w", err))
		}
	}
	if cfg.Registry {
		startRegistry(nw)
	}
	// Gossip may go through a relay until a hole punch opens a direct
	// connection: its messages are small, and the relay bounds them.
	gcfg := gossip.DefaultConfig()
	gcfg.ShareLinks = !cfg.UnsharedLinks
	nw.gossip = gossip.New(transport.RelayedStreams(h), gossipHandler{nw}, gcfg)
	n.SetHooks(Hooks{
		Written: func(e *entry.Signed) {
			if e.Kind == entry.KindGenesis {
				nw.Announce(e.ID)
			}
			nw.gossip.Broadcast(e.GroupID(), e.ID, e.Raw)
		},
		Left: func(g entry.ID) { nw.gossip.Leave(g) },
	})
	transport.Handle(h, wire.SyncProtocol, func(s network.Stream) error {
		p := s.Conn().RemotePeer()
		if nw.Banned(p) {
			return ErrBanned // the stream is reset unanswered
		}
		nw.mu.Lock()
		if nw.closing {
			nw.mu.Unlock()
			return net.ErrClosed
		}
		nw.serving.Add(1)
		nw.mu.Unlock()
		defer nw.serving.Done()
		if nw.graylisted(p) {
			nw.charge(p, FaultFlood) // it came back while ignored
			return ErrGraylisted
		}
		groups, res, err := n.ServeSync(s, func(g entry.ID) error {
			charge, err := nw.sessions.allow(p, g, n.now())
			if charge {
				nw.charge(p, FaultFlood)
			}
			return err
		})
		if err == nil {
			for _, g := range groups {
				nw.noteSync(g, p, 0)
			}
		}
		nw.noteSession(p, res, err)
		return err
	})
	return nw, nil
}

// Bans reports how many peers are banned now, and the misbehaviour charged
// to peers since start, by fault.
func (nw *Network) Bans() (banned int, charged map[Fault]uint64) {
	return nw.bans.count(nw.n.now())
}

// ErrBanned refuses an exchange with a banned peer.
var ErrBanned = errors.New("peer is banned")

// ErrGraylisted refuses a sync session with a peer whose score is below
// the graylist threshold (proto/score).
var ErrGraylisted = errors.New("peer is graylisted")

// Banned reports whether p is banned now: not dialed, not accepted, not
// synced with, and its gossip ignored.
func (nw *Network) Banned(p peer.ID) bool { return nw.bans.banned(p, nw.n.now()) }

// noteSession charges p with what a sync session with it says: the fault
// that ended it, if misbehaviour, or else the inadmissible entries it
// brought, if any.
func (nw *Network) noteSession(p peer.ID, res SyncResult, err error) {
	f := Classify(err)
	if !f.Misbehaviour() && (res.Inadmissible > 0 || slices.ContainsFunc(res.overQuota, func(a entry.Author) bool { return isAuthor(p, a) })) {
		f = FaultInadmissible
	}
	nw.charge(p, f)
}

// charge counts a fault of p, if misbehaviour, and acts on what p's score
// then calls for (bans.go, proto/score): below the gossip threshold, no
// overlay chooses it from its passive view for a while; graylisted, it leaves every
// overlay for graylistHold and what it sends is ignored; below the
// disconnect threshold its connections are closed; banned, the ban holds
// in every overlay and for every protocol, and the bans are saved.
func (nw *Network) charge(p peer.ID, f Fault) {
	v := nw.bans.charge(p, f, nw.n.now())
	nw.act(p, v)
}

// graylistHold is how long a graylisted peer stays out of the overlays
// before they ask again (the gossip layer asks at every message too).
const graylistHold = time.Minute

// act carries out a verdict on p.
func (nw *Network) act(p peer.ID, v score.Verdict) {
	switch {
	case v.Level == score.NoGossip:
		nw.gossip.Demote(p) // not chosen from a passive view
	case v.NewBan:
		nw.gossip.Ban(p, v.Until)
		nw.Host.Network().ClosePeer(p)
		nw.saveBans()
	case v.Level >= score.Graylisted && v.Level < score.Banned:
		nw.gossip.Ban(p, time.Now().Add(graylistHold)) // the cores' clock is the wall's
		if v.Level >= score.Disconnected {
			nw.Host.Network().ClosePeer(p)
		}
	}
}

// credit counts for p n first deliveries or entries a served
// reconciliation brought.
func (nw *Network) credit(p peer.ID, pt score.Part, n int) {
	if n > 0 {
		nw.bans.credit(p, pt, n, nw.n.now())
	}
}

// graylisted reports whether p's score is below the graylist threshold (or
// it is banned): what it sends is ignored and its sessions refused.
func (nw *Network) graylisted(p peer.ID) bool {
	return nw.bans.level(p, nw.n.now()) >= score.Graylisted
}

// saveBans writes the bans to the home; a failure costs only the bans'
// surviving a restart, so it is not reported.
func (nw *Network) saveBans() {
	nw.saving.Lock()
	defer nw.saving.Unlock()
	nw.mu.Lock()
	closing := nw.closing
	nw.mu.Unlock()
	if closing {
		return // a charge that came in as the host closed: the home is the store's now
	}
	nw.n.Home.SaveBans(nw.bans.list(nw.n.now()))
}

// noteSync records a successful session with p on g, which brought
// received entries new here (zero on the serving side), for the group's
// last sync and its core: p replicates g, so it is a way into g's overlay
// (topic.SyncDone says when it is met).
func (nw *Network) noteSync(g entry.ID, p peer.ID, received int) {
	nw.mu.Lock()
	if nw.synced[g] == nil {
		nw.synced[g] = map[peer.ID]time.Time{}
	}
	nw.synced[g][p] = nw.n.now()
	nw.mu.Unlock()
	nw.gossip.Synced(g, p, received)
}

// GroupSync is a group's standing on the network.
type GroupSync struct {
	Neighbours []string      // the overlay's active view, by peer id
	RTT        time.Duration // mean round trip to the neighbours measured; zero: none yet
	LastSync   time.Time     // zero: never
}

// SyncState reports a group's neighbours and last successful sync.
func (nw *Network) SyncState(g entry.ID) GroupSync {
	var gs GroupSync
	for _, p := range nw.gossip.Neighbours(g) {
		gs.Neighbours = append(gs.Neighbours, p.String())
	}
	slices.Sort(gs.Neighbours)
	gs.RTT = nw.gossip.NeighbourRTT(g)
	nw.mu.Lock()
	defer nw.mu.Unlock()
	for _, at := range nw.synced[g] {
		if at.After(gs.LastSync) {
			gs.LastSync = at
		}
	}
	return gs
}

// Gossip reports the gossip layer's counters.
func (nw *Network) Gossip() gossip.Stats { return nw.gossip.Stats() }

// ControlKinds names the slots of gossip.Stats.ControlByKind.
var ControlKinds = gossip.ControlKinds

// Links is how many peers are neighbours in at least one group's overlay.
func (nw *Network) Links() int { return nw.gossip.Links() }

// gossipHandler is the node behind the gossip layer.
type gossipHandler struct{ nw *Network }

func (h gossipHandler) Serves(g entry.ID) bool {
	if _, err := h.nw.n.Store.Group(g); err != nil {
		return false
	}
	ok, err := h.nw.n.replicates(g)
	return err == nil && ok
}

func (h gossipHandler) Payload(g, id entry.ID) ([]byte, bool) {
	raw, err := h.nw.n.Store.GetRaw(g, id)
	if err != nil {
		return nil, false
	}
	return raw, true
}

// Admit stores pushed entries with every check, before the broadcast
// forwards them, and charges their senders with what was refused: a bad
// signature or a malformed entry each time, inadmissible entries once per
// sender and batch (a sender that knows more, a grant this node lacks, may
// push them in good faith). What is refused for lack of a grant
// anti-entropy brings later, in log order.
func (h gossipHandler) Admit(pushes []gossip.Push) []gossip.Verdict {
	// The gossip layer decoded each entry to check it; the store verifies
	// the signatures (in batches), once, and not those of entries it holds.
	es := make([]*entry.Signed, len(pushes))
	for i, p := range pushes {
		es[i] = p.Entry
		if es[i] == nil {
			var err error
			if es[i], err = entry.Decode(p.Raw); err != nil {
				es[i] = nil
			}
		}
	}
	outs, _ := h.nw.n.ingestPrepared(h.nw.n.Store.PrepareDecoded(es))
	ok := make([]gossip.Verdict, len(pushes))
	var inadmissible []peer.ID
	for i, o := range outs {
		if i >= len(pushes) {
			break
		}
		ok[i] = gossip.Verdict{OK: o.Err == nil, Future: fromFuture(o.Err)}
		if o.Stored() && len(pushes[i].From) > 0 {
			h.nw.credit(pushes[i].From[0], score.Delivered, 1) // the first to push it
		}
		switch f := entryFault(o.Err); {
		case f == FaultInadmissible:
			for _, p := range pushes[i].From {
				if !relayedOverQuota(o, p) {
					inadmissible = append(inadmissible, p)
				}
			}
		case f.Misbehaviour():
			for _, p := range pushes[i].From {
				h.nw.charge(p, f)
			}
		}
	}
	slices.Sort(inadmissible)
	for _, p := range slices.Compact(inadmissible) {
		h.nw.charge(p, FaultInadmissible)
	}
	return ok
}

// Banned is true of a graylisted peer too: nothing is sent to it, what it
// sends is ignored, and the cores drop it for a while.
func (h gossipHandler) Banned(p peer.ID) bool { return h.nw.graylisted(p) }

// Pushes is false below the gossip threshold: no entry or IHave is pushed
// to the peer.
func (h gossipHandler) Pushes(p peer.ID) bool {
	return h.nw.bans.level(p, h.nw.n.now()) < score.NoGossip
}

// Contacts is the overlay asking for members outside it (it is isolated
// and knows no member to meet): those the DHT names, not banned, with
// their addresses kept for the dial.
func (h gossipHandler) Contacts(g entry.ID) []peer.ID {
	ctx, cancel := context.WithTimeout(context.Background(), sessionTimeout)
	defer cancel()
	found, err := h.nw.FindMembers(ctx, g)
	if err != nil {
		return nil
	}
	var out []peer.ID
	for _, m := range found {
		if !h.nw.Banned(m.ID) {
			h.nw.Host.Peerstore().AddAddrs(m.ID, m.Addrs, peerstore.TempAddrTTL)
			out = append(out, m.ID)
		}
	}
	return out
}

// Violation is the gossip layer's report of a stream that failed.
// A stream the layer reset because its graylisted peer went on sending,
// and messages beyond the rate limits, are a flood.
func (h gossipHandler) Violation(p peer.ID, err error) {
	if errors.Is(err, gossip.ErrIgnored) || errors.Is(err, gossip.ErrFlood) {
		h.nw.charge(p, FaultFlood)
		return
	}
	if m, ok := errors.AsType[gossip.Misbehaved](err); ok {
		h.nw.charge(p, coreFault(m.Fault.Part()))
		return
	}
	h.nw.charge(p, Classify(err))
}

// PeerInfo is a connected peer as `peers` reports it.
type PeerInfo struct {
	ID       string   `json:"peer_id"`
	Addrs    []string `json:"addrs"`
	Groups   []string `json:"groups"`
	BytesIn  int64    `json:"bytes_in"`
	BytesOut int64    `json:"bytes_out"`
	// Relayed: every connection to it goes through a relay (no hole
	// punched yet).
	Relayed bool `json:"relayed"`
	// Violations counts its misbehaviour: sessions and streams it broke
	// (Fault), and exchanges that brought inadmissible entries.
	Violations int `json:"violations"`
	// Score is its score now (proto/score), Level what it calls for, and
	// Parts the score's nonzero parts by name (colocation among them).
	Score float64            `json:"score"`
	Level string             `json:"level"`
	Parts map[string]float64 `json:"parts"`
}

// scoreOf fills in p's score, level and parts.
func (nw *Network) scoreOf(pi *PeerInfo, p peer.ID) {
	st := nw.bans.standing(p, nw.n.now())
	pi.Score, pi.Level, pi.Parts = st.Score, st.Level.String(), map[string]float64{}
	for _, pt := range score.Parts() {
		if v := st.Parts[pt]; v != 0 {
			pi.Parts[pt.String()] = v
		}
	}
	if st.Colocation != 0 {
		pi.Parts["colocation"] = st.Colocation
	}
}

// ScoreLevels counts the peers the scores hold at each level other than
// good, by level name (proto/score), for /metrics.
func (nw *Network) ScoreLevels() map[string]int {
	out := map[string]int{}
	for lv, n := range nw.bans.levels(nw.n.now()) {
		if lv != score.Good {
			out[lv.String()] = n
		}
	}
	return out
}

// Peers lists the connected peers, with the groups synced with each.
func (nw *Network) Peers() []PeerInfo {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	var out []PeerInfo
	for _, p := range nw.Host.Network().Peers() {
		st := nw.bw.GetBandwidthForPeer(p)
		pi := PeerInfo{ID: p.String(), Addrs: []string{}, Groups: []string{}, BytesIn: st.TotalIn, BytesOut: st.TotalOut, Violations: nw.bans.faultsOf(p)}
		nw.scoreOf(&pi, p)
		conns := nw.Host.Network().ConnsToPeer(p)
		pi.Relayed = len(conns) > 0
		for _, c := range conns {
			pi.Addrs = append(pi.Addrs, c.RemoteMultiaddr().String())
			pi.Relayed = pi.Relayed && transport.Relayed(c)
		}
		for g, ps := range nw.synced {
			if _, ok := ps[p]; ok {
				pi.Groups = append(pi.Groups, g.String())
			}
		}
		slices.Sort(pi.Groups)
		out = append(out, pi)
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Addrs are the addresses peers can dial, each ending in /p2p/<peer id>.
func (nw *Network) Addrs() []string { return transport.Addrs(nw.Host) }

// Close stops the gossip, the DHT and the host, and waits for the sync
// sessions it was answering, so that the store can close after it.
func (nw *Network) Close() error {
	nw.mu.Lock()
	nw.closing = true
	nw.mu.Unlock()
	nw.saving.Lock() // a save under way ends first; none begins after
	nw.saving.Unlock()
	if nw.mdns != nil {
		nw.mdns.Close()
	}
	if nw.stopRegistry != nil {
		nw.stopRegistry()
	}
	nw.blobs.close()
	nw.gossip.Close()
	nw.dht.Close()
	nw.reach.Close()
	err := nw.Host.Close() // resets the streams: the sessions end at their next read
	nw.serving.Wait()
	return err
}

// SyncWith reconciles group g with the peer at addr (a multiaddress ending
// in /p2p/<peer id>). A node that does not hold g yet joins it this way.
func (nw *Network) SyncWith(ctx context.Context, addr string, g entry.ID) (SyncResult, error) {
	p, err := transport.Dial(ctx, nw.Host, addr)
	if err != nil {
		return SyncResult{}, err
	}
	s, err := transport.Open(transport.ThroughRelays(ctx), nw.Host, p, wire.SyncProtocol)
	if err != nil {
		return SyncResult{}, fmt.Errorf("open a sync stream to %s: %w", p, err)
	}
	res, err := nw.n.Sync(s, g)
	nw.noteSession(p, res, err)
	if err != nil {
		s.Reset()
		return res, err
	}
	nw.noteSync(g, p, 0)
	nw.Announce(g)
	return res, s.Close()
}

// Report receives the outcome of each sync session the runtime starts,
// with the peer and the group (short form).
type Report func(peer, group string, res SyncResult, err error)

// Met delivers peers as they first connect.
func (nw *Network) Met() <-chan peer.ID { return nw.met }

// Known lists the peers met or remembered, in id order.
func (nw *Network) Known() []peer.ID {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	out := make([]peer.ID, 0, len(nw.known))
	for p := range nw.known {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Remember adds peers to dial, by multiaddresses ending in /p2p/<peer id>.
func (nw *Network) Remember(addrs []string) error {
	for _, a := range addrs {
		if transport.IsDNSAddr(a) {
			continue // resolved when dialled (Run)
		}
		info, err := transport.AddrInfo(a)
		if err != nil {
			return err
		}
		nw.Host.Peerstore().AddAddrs(info.ID, info.Addrs, peerstore.PermanentAddrTTL)
		nw.mu.Lock()
		nw.known[info.ID] = true
		nw.mu.Unlock()
	}
	return nil
}

// KnownAddrs are the known peers with the addresses the peerstore holds for
// them, for remembering across restarts.
func (nw *Network) KnownAddrs() []string {
	var out []string
	for _, p := range nw.Known() {
		for _, a := range nw.Host.Peerstore().Addrs(p) {
			out = append(out, a.String()+"/p2p/"+p.String())
		}
	}
	return out
}

// sessionTimeout bounds one sync session the runtime starts, so that one
// slow or unreachable peer cannot hold up the others.
const sessionTimeout = 20 * time.Second

// SyncPeer reconciles group g with a known peer, dialing it if needed; a
// banned peer is refused.
func (nw *Network) SyncPeer(ctx context.Context, p peer.ID, g entry.ID) (SyncResult, error) {
	if nw.Banned(p) {
		return SyncResult{}, fmt.Errorf("sync with %s: %w", p, ErrBanned)
	}
	if nw.graylisted(p) {
		return SyncResult{}, fmt.Errorf("sync with %s: %w", p, ErrGraylisted)
	}
	ctx, cancel := context.WithTimeout(ctx, sessionTimeout)
	defer cancel()
	s, err := transport.Open(transport.ThroughRelays(ctx), nw.Host, p, wire.SyncProtocol)
	if err != nil {
		// Not connected even now: the overlay takes p as gone.
		nw.gossip.SyncFailed(g, p, nw.Host.Network().Connectedness(p) != network.Connected)
		return SyncResult{}, fmt.Errorf("open a sync stream to %s: %w", p, err)
	}
	res, err := nw.n.Sync(s, g)
	nw.noteSession(p, res, err)
	if err != nil {
		nw.gossip.SyncFailed(g, p, false)
		s.Reset()
		return res, err
	}
	nw.noteSync(g, p, res.Received)
	if res.Received > 0 {
		nw.credit(p, score.Served, 1)
	}
	return res, s.Close()
}

// Round is the periodic anti-entropy: each group with the one peer its
// core picks (topic.Round: a neighbour, one time in four a passive peer,
// else a member synced with, else one of the known peers, never a banned
// one), following the peers picked for the groups before it where it can.
// Each peer picked is probed once for all its groups, and only the groups
// that differ get a session. It is the backstop that makes replicas
// converge.
func (nw *Network) Round(ctx context.Context, report Report) error {
	gs, err := nw.n.Replicated()
	if err != nil {
		return err
	}
	peers := nw.syncCandidates()
	var picked []peer.ID
	groupsOf := map[peer.ID][]entry.ID{}
	for _, g := range gs {
		p, ok := nw.gossip.Reconcile(g.ID, peers, picked)
		if !ok {
			continue
		}
		if _, seen := groupsOf[p]; !seen {
			picked = append(picked, p)
		}
		groupsOf[p] = append(groupsOf[p], g.ID)
	}
	for _, p := range picked {
		for groups := groupsOf[p]; len(groups) > 0; groups = groups[min(len(groups), wire.MaxProbe):] {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			for _, g := range nw.probe(ctx, p, groups[:min(len(groups), wire.MaxProbe)], report) {
				res, err := nw.SyncPeer(ctx, p, g)
				report(p.String(), g.Short(), res, err)
			}
		}
	}
	for _, g := range gs {
		nw.Announce(g.ID)
	}
	return nil
}

// probeRefusals are the verdicts that refuse a group, as the refusals of a
// session would.
var probeRefusals = map[wire.Verdict]*Refused{
	wire.Unknown: {Code: wire.CodeUnknownGroup, Text: "this node does not hold the group"},
	wire.Busy:    {Code: wire.CodeBusy, Text: "busy: too many sync sessions now, try later"},
}

// probe asks p which of groups differ (Node.Probe) and returns those, for
// sessions; the groups found the same are synced with p, the ones it
// refused failed. A probe that fails as a whole returns every group: the
// sessions find out what the probe could not.
func (nw *Network) probe(ctx context.Context, p peer.ID, groups []entry.ID, report Report) []entry.ID {
	if nw.Banned(p) || nw.graylisted(p) {
		return groups // SyncPeer refuses them, and says why
	}
	ctx, cancel := context.WithTimeout(ctx, sessionTimeout)
	defer cancel()
	s, err := transport.Open(transport.ThroughRelays(ctx), nw.Host, p, wire.SyncProtocol)
	if err != nil {
		return groups
	}
	verdicts, err := nw.n.Probe(s, groups)
	if err != nil {
		nw.noteSession(p, SyncResult{}, err)
		s.Reset()
		return groups
	}
	s.Close()
	var differ []entry.ID
	for i, v := range verdicts {
		g := groups[i]
		switch v {
		case wire.Same:
			nw.noteSync(g, p, 0)
			report(p.String(), g.Short(), SyncResult{Rounds: 1}, nil)
		case wire.Differs:
			differ = append(differ, g)
		default:
			nw.gossip.SyncFailed(g, p, false)
			report(p.String(), g.Short(), SyncResult{}, probeRefusals[v])
		}
	}
	return differ
}

// Greet syncs every group with a newly met peer (none with a banned one);
// a group the peer lacks is refused quickly.
func (nw *Network) Greet(ctx context.Context, p peer.ID, report Report) error {
	gs, err := nw.n.Replicated()
	if err != nil || nw.Banned(p) {
		return err
	}
	for _, g := range gs {
		res, err := nw.SyncPeer(ctx, p, g.ID)
		if r := (*Refused)(nil); errors.As(err, &r) && r.Code == wire.CodeUnknownGroup {
			continue
		}
		report(p.String(), g.ID.Short(), res, err)
	}
	nw.announceAll()
	go nw.greetRegistry(p)
	return nil
}

// PeerID is the node's libp2p peer id, the same key as its author id.
func (n *Node) PeerID() (string, error) {
	p, err := transport.PeerID(n.Home.Key.Public().(ed25519.PublicKey))
	return p.String(), err
}

// Run is the node's runtime loop, until ctx ends: it dials the bootstrap
// peers, greets peers as they connect (a sync of every group, which also
// enters the group's overlay through them), and runs an anti-entropy round
// every period, jittered by ±20%, remembering the peers it knows. Sessions
// run one at a time; writes are pushed by the gossip layer as they happen.
func (nw *Network) Run(ctx context.Context, bootstrap []string, every time.Duration, report Report) {
	nw.blobs.startCare(ctx)
	for _, b := range bootstrap {
		go func() {
			for _, a := range nw.resolveBootstrap(ctx, []string{b}, report) {
				dctx, cancel := context.WithTimeout(ctx, sessionTimeout)
				if _, err := transport.Dial(dctx, nw.Host, a); err != nil {
					report(a, "", SyncResult{}, err)
				}
				cancel()
			}
		}()
	}
	var redials sync.WaitGroup
	defer redials.Wait()
	redials.Go(func() { nw.redial(ctx, report) })
	jitter := func() time.Duration { return time.Duration(float64(every) * (0.8 + 0.4*rand.Float64())) }
	round := time.NewTimer(jitter())
	defer round.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-nw.met:
			nw.Greet(ctx, p, report)
		case <-round.C:
			redials.Go(func() { nw.redial(ctx, report) })
			nw.Round(ctx, report)
			nw.n.Home.SavePeers(nw.KnownAddrs())
			round.Reset(jitter())
		}
	}
}
