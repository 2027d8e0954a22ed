package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/transport"
	"hearsay/internal/wire"

	"github.com/ipfs/go-cid"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/multiformats/go-multihash"
)

// Members of a group find each other through a Kademlia DHT of hearsay
// nodes (its own protocol prefix, so it never mixes with the IPFS DHT): each
// node announces itself as a provider of every group it replicates, under
// the group's key, and a joiner asks the DHT for providers. A node is a DHT
// server unless AutoNAT finds it private, when nobody could reach it to ask
// (it stays a client; a registry always serves); the bootstrap peers are
// its first contacts.
const dhtPrefix = "/hearsay"

// GroupKey is the DHT key of a group: a CIDv1 (raw codec) of
// SHA2-256("hearsay/group/v1/" || group id), the digest a gossip Holds
// lists (wire.DigestOf). docs/protocol.md §11 has it.
func GroupKey(g entry.ID) cid.Cid {
	d := wire.DigestOf(g)
	h, err := multihash.Encode(d[:], multihash.SHA2_256)
	if err != nil {
		panic(err) // SHA2-256 is always registered
	}
	return cid.NewCidV1(cid.Raw, h)
}

// reprovideEvery is how often a group is announced again: well within the
// 48 h a DHT node keeps a provider record.
const reprovideEvery = time.Hour

// announcer keeps the DHT records of this node's groups fresh.
type announcer struct {
	mu       sync.Mutex
	provided map[entry.ID]time.Time // last successful announcement
	busy     map[entry.ID]bool
}

func startDHT(nw *Network) error {
	mode := dht.ModeServer
	if nw.cfg.Reach && !nw.cfg.Registry {
		mode = dht.ModeAutoServer
	}
	d, err := dht.New(nw.Host, dht.Mode(mode), dht.ProtocolPrefix(dhtPrefix))
	if err != nil {
		return fmt.Errorf("start the DHT: %w", err)
	}
	nw.dht = d
	nw.ann = &announcer{provided: map[entry.ID]time.Time{}, busy: map[entry.ID]bool{}}
	return nil
}

// Announce makes this node findable as a member of group g, in the
// background, unless it did so within reprovideEvery; a failed attempt (no
// DHT peer yet) is retried on the next call.
func (nw *Network) Announce(g entry.ID) {
	a := nw.ann
	a.mu.Lock()
	if a.busy[g] || time.Since(a.provided[g]) < reprovideEvery {
		a.mu.Unlock()
		return
	}
	a.busy[g] = true
	a.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), sessionTimeout)
		defer cancel()
		err := nw.dht.Provide(ctx, GroupKey(g), true)
		a.mu.Lock()
		defer a.mu.Unlock()
		delete(a.busy, g)
		if err == nil {
			a.provided[g] = time.Now()
		}
	}()
}

// announceAll announces every replicated group.
func (nw *Network) announceAll() {
	gs, err := nw.n.Replicated()
	if err != nil {
		return
	}
	for _, g := range gs {
		nw.Announce(g.ID)
	}
}

// FindMembers asks the DHT for nodes that announced group g, other than
// this one, asking again until one is found or ctx ends.
func (nw *Network) FindMembers(ctx context.Context, g entry.ID) ([]peer.AddrInfo, error) {
	for {
		found := nw.membersFromRegistries(ctx, g) // the quick answer, where there is a registry
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		for info := range nw.dht.FindProvidersAsync(qctx, GroupKey(g), 20) {
			if info.ID != nw.Host.ID() && !slices.ContainsFunc(found, func(f peer.AddrInfo) bool { return f.ID == info.ID }) {
				found = append(found, info)
			}
		}
		cancel()
		if len(found) > 0 {
			return found, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no member of group %s found through the DHT (%d peers in its routing table)", g.Short(), nw.dht.RoutingTable().Size())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// JoinByDHT finds members of group g through the DHT and syncs with the
// first that answers: how a node joins a group knowing only its id.
func (nw *Network) JoinByDHT(ctx context.Context, g entry.ID) (SyncResult, error) {
	members, err := nw.FindMembers(ctx, g)
	if err != nil {
		return SyncResult{}, err
	}
	var errs []error
	var total SyncResult
	for _, m := range members {
		nw.Host.Peerstore().AddAddrs(m.ID, m.Addrs, peerstore.TempAddrTTL)
		res, err := nw.SyncPeer(ctx, m.ID, g)
		total.add(res) // a session that failed may have stored some
		if err == nil {
			nw.Announce(g)
			return total, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", m.ID, err))
	}
	return total, fmt.Errorf("no member of group %s could give it: %v", g.Short(), errs)
}

// Reach dials peers by multiaddress, each within a few seconds, as a way
// into the DHT for a host that does not serve; it reports how many answered.
func (nw *Network) Reach(ctx context.Context, addrs []string) int {
	n := 0
	for _, a := range addrs {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if _, err := transport.Dial(dctx, nw.Host, a); err == nil {
			n++
		}
		cancel()
	}
	return n
}

// add counts o's sessions into r.
func (r *SyncResult) add(o SyncResult) {
	r.Rounds += o.Rounds
	r.Received += o.Received
	r.Refused += o.Refused
	r.Inadmissible += o.Inadmissible
	r.Sent += o.Sent
	for _, a := range o.overQuota {
		r.noteOverQuota(a)
	}
}

// Join fetches group g and keeps replicating it: from the first of peers
// (multiaddresses) that answers or, with none given, from a member the DHT
// names. Joining a group left earlier resumes it. The result counts every
// session tried, a failed one included: it may have stored entries.
func (nw *Network) Join(ctx context.Context, g entry.ID, peers []string) (SyncResult, error) {
	if _, err := nw.n.Store.Group(g); err == nil {
		if err := nw.n.Store.SetLeft(g, false); err != nil {
			return SyncResult{}, err
		}
	}
	if len(peers) == 0 {
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return nw.JoinByDHT(fctx, g)
	}
	var errs []error
	var total SyncResult
	for _, p := range peers {
		res, err := nw.SyncWith(ctx, p, g)
		total.add(res) // a session that failed may have stored some
		if err == nil {
			return total, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", p, err))
	}
	return total, fmt.Errorf("no peer could give group %s: %v", g.Short(), errs)
}
