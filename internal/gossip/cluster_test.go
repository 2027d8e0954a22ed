package gossip

import (
	"context"
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/hlc"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
)

// testNet is n mocknet hosts, every pair linked with a latency drawn from
// [minLat, maxLat], each connected to degree random others.
type testNet struct {
	mn    mocknet.Mocknet
	hosts []host.Host
	rng   *rand.Rand
}

func newNetwork(t testing.TB, n, degree int, minLat, maxLat time.Duration, seed uint64) *testNet {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	nw := &testNet{mn: mn, rng: rand.New(rand.NewPCG(seed, 0))}
	for range n {
		h, err := mn.GenPeer()
		if err != nil {
			t.Fatal(err)
		}
		ping.NewPingService(h) // as libp2p.New hosts serve it
		nw.hosts = append(nw.hosts, h)
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			l, err := mn.LinkPeers(nw.hosts[i].ID(), nw.hosts[j].ID())
			if err != nil {
				t.Fatal(err)
			}
			l.SetOptions(mocknet.LinkOptions{Latency: minLat + time.Duration(nw.rng.Int64N(int64(maxLat-minLat)+1))})
		}
	}
	for i := range n {
		for range degree {
			j := nw.rng.IntN(n)
			if j == i {
				continue
			}
			if _, err := mn.ConnectPeers(nw.hosts[i].ID(), nw.hosts[j].ID()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return nw
}

// earlier connects host i to a random host before it, and names it.
func (nw *testNet) earlier(t testing.TB, i int) peer.ID {
	j := nw.hosts[nw.rng.IntN(i)].ID()
	if _, err := nw.mn.ConnectPeers(nw.hosts[i].ID(), j); err != nil {
		t.Fatal(err)
	}
	return j
}

// memNode is a node with its entries in memory: the handler behind a
// Gossip in these tests.
type memNode struct {
	gid  entry.ID
	also entry.ID // a second group served, if set

	mu       sync.Mutex
	at       map[entry.ID]time.Time // when each entry arrived
	raws     map[entry.ID][]byte
	violated int
	banned   map[peer.ID]bool
	quiet    map[peer.ID]bool // below the gossip threshold: pushed nothing
	flooded  int              // ErrFlood reports
	// refuse are ids its admission refuses (inadmissible here);
	// refusedFrom counts the refusals charged to each sender.
	refuse      map[entry.ID]bool
	refusedFrom map[peer.ID]int
	// contacts are what Contacts finds; asked counts the calls.
	contacts []peer.ID
	asked    int
}

func newMemNode(gid entry.ID) *memNode {
	return &memNode{gid: gid, at: map[entry.ID]time.Time{}, raws: map[entry.ID][]byte{}}
}

func (m *memNode) Serves(g entry.ID) bool { return g == m.gid || g == m.also && g != entry.ID{} }

func (m *memNode) Payload(g, id entry.ID) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	raw, ok := m.raws[id]
	return raw, ok
}

// Admit stores what verifies and is not refused, as the node's admission
// would, and counts the refusals by sender.
func (m *memNode) Admit(pushes []Push) []Verdict {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	ok := make([]Verdict, len(pushes))
	for i, p := range pushes {
		e, err := entry.Decode(p.Raw)
		if err != nil {
			panic(err) // the gossip layer checked it
		}
		if e.Verify() != nil || m.refuse[e.ID] {
			for _, from := range p.From {
				if m.refusedFrom == nil {
					m.refusedFrom = map[peer.ID]int{}
				}
				m.refusedFrom[from]++
			}
			continue
		}
		m.store(e.ID, p.Raw, now)
		ok[i].OK = true
	}
	return ok
}

// keep stores an entry written here.
func (m *memNode) keep(e *entry.Signed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.store(e.ID, e.Raw, time.Now())
}

// store records an entry. REQUIRES: m.mu held.
func (m *memNode) store(id entry.ID, raw []byte, at time.Time) {
	if _, ok := m.raws[id]; !ok {
		m.raws[id] = raw
		m.at[id] = at
	}
}

func (m *memNode) Contacts(entry.ID) []peer.ID {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked++
	return slices.Clone(m.contacts)
}

// Violation counts what the node would charge of the failures reported:
// malformed messages, not the streams' ends.
func (m *memNode) Violation(_ peer.ID, err error) {
	if errors.Is(err, ErrFlood) {
		m.mu.Lock()
		m.flooded++
		m.mu.Unlock()
		return
	}
	if !errors.Is(err, wire.ErrMalformed) {
		return
	}
	m.mu.Lock()
	m.violated++
	m.mu.Unlock()
}

func (m *memNode) Pushes(p peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.quiet[p]
}

func (m *memNode) Banned(p peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.banned[p]
}

// ban bans p, as the node's policy would.
func (m *memNode) ban(p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.banned == nil {
		m.banned = map[peer.ID]bool{}
	}
	m.banned[p] = true
}

func (m *memNode) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.raws)
}

func (m *memNode) floods() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.flooded
}

func (m *memNode) violations() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.violated
}

func (m *memNode) has(id entry.ID) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.at[id]
	return at, ok
}

// author writes signed posts of one group.
type author struct {
	key ed25519.PrivateKey
	gid entry.ID
	seq uint64
}

func newAuthor(seed byte) *author {
	var s [32]byte
	s[0] = seed
	return &author{key: ed25519.NewKeyFromSeed(s[:]), gid: entry.ID{seed, 0xcc}}
}

func (a *author) post(size int) *entry.Signed {
	a.seq++
	var au entry.Author
	copy(au[:], a.key.Public().(ed25519.PublicKey))
	e, err := entry.Sign(entry.Entry{Group: a.gid, Author: au, Seq: a.seq, HLC: hlc.Timestamp(a.seq << 16),
		Kind: "post", Body: make([]byte, size)}, a.key)
	if err != nil {
		panic(err)
	}
	return e
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
	return true
}
