package node

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"hearsay/internal/blob"
	"hearsay/internal/proto/storage"
	"hearsay/internal/shards"
	"hearsay/internal/transport"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// StorageLimits are the operator's limits on what a node stores for
// others and how fast it moves shards, kept in <home>/storage.json.
type StorageLimits struct {
	storage.Config
	UploadRate        int64 `json:"upload_rate"`          // bytes/s served in all; 0: no limit
	UploadRatePerPeer int64 `json:"upload_rate_per_peer"` // bytes/s served to any one peer; 0: no limit
	DownloadRate      int64 `json:"download_rate"`        // bytes/s fetched from peers in all; 0: no limit
}

// blobs is the network side of files: it serves /hearsay/blob/1 and keeps
// the ledger of what it holds for whom and they for it.
type blobs struct {
	nw      *Network
	objects *shards.Store
	path    string // storage.json

	mu       sync.Mutex
	limits   StorageLimits
	ledger   *storage.Ledger
	upload   *rate.Limiter
	download *rate.Limiter
	perPeer  map[peer.ID]*rate.Limiter     // bounded by the peers connected: dropped as they leave
	members  map[[32]byte]map[peer.ID]bool // per group, members the DHT named; maxMembers each
	placed   *placements                   // what this node placed where: what it audits
	cared    []*File                       // files whose table this node holds, as of the last repair round
	renewed  map[blob.ID]time.Time         // when this node last renewed the leases of its files, by table; maxCared
	suspect  string                        // the peer that last failed an audit here; "" none
	stopCare context.CancelFunc            // ends the care loop; nil until it starts
	care     sync.WaitGroup                // the care loop, while it runs

	stats fileCounters
}

// fileCounters count what the files' protocol did since start.
type fileCounters struct {
	placed, repaired, refused, served atomic.Uint64
}

// FileStats is what /metrics reports of files.
type FileStats struct {
	Held          int64  // bytes of objects on disk
	HeldForOthers int64  // ... of them held for other peers
	HeldByOthers  int64  // bytes other peers hold for this node, as audits last found
	AuditsPassed  int    // audits of others this node ran that passed
	AuditsFailed  int    // ... that failed
	Placed        uint64 // objects sent to other peers to hold
	Repaired      uint64 // files this node repaired
	Refused       uint64 // requests to store that this node refused
	ServedBytes   uint64 // bytes of objects sent to fetchers
}

// FileStats reads the counters of files.
func (nw *Network) FileStats() FileStats {
	b := nw.blobs
	st := FileStats{Held: b.objects.Bytes(), Placed: b.stats.placed.Load(), Repaired: b.stats.repaired.Load(),
		Refused: b.stats.refused.Load(), ServedBytes: b.stats.served.Load()}
	b.mu.Lock()
	defer b.mu.Unlock()
	st.HeldForOthers = b.ledger.Total
	for _, a := range b.ledger.Accounts {
		st.HeldByOthers += a.HeldBy
		st.AuditsPassed += a.AuditsPassed
		st.AuditsFailed += a.AuditsFailed
	}
	return st
}

// storageFile is storage.json: the limits and the accounts. What this node
// holds for each peer is recounted from the object store on open, so only
// what others hold for it, and audits, need to be kept.
type storageFile struct {
	Limits   StorageLimits               `json:"limits"`
	Accounts map[string]*storage.Account `json:"accounts"`
}

func startBlobs(nw *Network) (*blobs, error) {
	objects, err := nw.n.Objects()
	if err != nil {
		return nil, err
	}
	b := &blobs{nw: nw, objects: objects, path: filepath.Join(nw.n.Home.Dir, "storage.json"), perPeer: map[peer.ID]*rate.Limiter{},
		members: map[[32]byte]map[peer.ID]bool{}, renewed: map[blob.ID]time.Time{}, placed: openPlacements(filepath.Join(nw.n.Home.Dir, "shards"))}
	sf, err := ReadStorage(nw.n.Home.Dir)
	if err != nil {
		return nil, err
	}
	b.setLimits(sf.Limits)
	for p, a := range sf.Accounts {
		b.ledger.Accounts[p] = &storage.Account{HeldBy: a.HeldBy, AuditsPassed: a.AuditsPassed, AuditsFailed: a.AuditsFailed, Strikes: a.Strikes}
	}
	self, _ := nw.n.PeerID()
	for _, m := range objects.List() {
		if m.Owner != self {
			b.ledger.Accounts[m.Owner] = b.account(m.Owner)
			b.ledger.Accounts[m.Owner].HeldFor += int64(m.Size)
			b.ledger.Writers[fmt.Sprintf("%x", m.Writer)] += int64(m.Size)
			b.ledger.Total += int64(m.Size)
		}
	}
	transport.Handle(nw.Host, wire.BlobProtocol, func(s network.Stream) error {
		err := b.serve(s)
		if f := Classify(err); f.Misbehaviour() { // a malformed or out-of-turn request
			nw.charge(s.Conn().RemotePeer(), f)
		}
		return err
	})
	nw.Host.Network().Notify(&network.NotifyBundle{DisconnectedF: func(net network.Network, c network.Conn) {
		if len(net.ConnsToPeer(c.RemotePeer())) == 0 {
			b.mu.Lock()
			delete(b.perPeer, c.RemotePeer())
			b.mu.Unlock()
		}
	}})
	return b, nil
}

func (b *blobs) account(p string) *storage.Account {
	if a := b.ledger.Accounts[p]; a != nil {
		return a
	}
	return &storage.Account{}
}

// ReadStorage reads <dir>/storage.json; a home without one has the
// default limits and no accounts.
func ReadStorage(dir string) (storageFile, error) {
	sf := storageFile{Limits: StorageLimits{Config: storage.DefaultConfig()}}
	data, err := os.ReadFile(filepath.Join(dir, "storage.json"))
	if errors.Is(err, os.ErrNotExist) {
		return sf, nil
	}
	if err != nil {
		return sf, err
	}
	if err := json.Unmarshal(data, &sf); err != nil {
		return sf, fmt.Errorf("storage.json: %w", err)
	}
	return sf, nil
}

// WriteStorageLimits sets the limits in <dir>/storage.json, keeping the accounts.
func WriteStorageLimits(dir string, l StorageLimits) error {
	sf, err := ReadStorage(dir)
	if err != nil {
		return err
	}
	sf.Limits = l
	return writeStorage(dir, sf)
}

func writeStorage(dir string, sf storageFile) error {
	data, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".storage.json.tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "storage.json"))
}

// setLimits applies new limits.
func (b *blobs) setLimits(l StorageLimits) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.limits = l
	if b.ledger == nil {
		b.ledger = storage.NewLedger(l.Config)
	}
	b.ledger.Config = l.Config
	b.upload = limiter(l.UploadRate)
	b.download = limiter(l.DownloadRate)
	clear(b.perPeer)
}

func limiter(perSecond int64) *rate.Limiter {
	if perSecond <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(perSecond), wire.BlobChunk) // a burst of one chunk: the cap holds from the first second
}

// save writes the ledger; the caller holds b.mu.
func (b *blobs) save() error {
	return writeStorage(b.nw.n.Home.Dir, storageFile{Limits: b.limits, Accounts: b.ledger.Accounts})
}

// SetStorageLimits applies and keeps new limits on a serving node.
func (nw *Network) SetStorageLimits(l StorageLimits) error {
	nw.blobs.setLimits(l)
	nw.blobs.mu.Lock()
	defer nw.blobs.mu.Unlock()
	return nw.blobs.save()
}

// Ledger is a copy of the node's accounts and limits.
func (nw *Network) Ledger() (StorageLimits, storage.Ledger) {
	b := nw.blobs
	b.mu.Lock()
	defer b.mu.Unlock()
	l := storage.Ledger{Config: b.ledger.Config, Accounts: map[string]*storage.Account{}, Writers: map[string]int64{}, Total: b.ledger.Total}
	for p, a := range b.ledger.Accounts {
		cp := *a
		l.Accounts[p] = &cp
	}
	for w, n := range b.ledger.Writers {
		l.Writers[w] = n
	}
	return b.limits, l
}

// serve answers one request of /hearsay/blob/1.
func (b *blobs) serve(s network.Stream) error {
	p := s.Conn().RemotePeer()
	r := bufio.NewReader(s)
	frame, err := wire.ReadFrame(r)
	if err != nil {
		return err
	}
	m, err := wire.DecodeBlob(frame)
	if err != nil {
		return err
	}
	switch m := m.(type) {
	case wire.BlobStore:
		return b.serveStore(s, r, p, m)
	case wire.BlobFetch:
		return b.serveFetch(s, p, m)
	case wire.BlobHave:
		bits := make([]byte, (len(m.IDs)+7)/8)
		for i, id := range m.IDs {
			if b.objects.Has(blob.ID(id)) {
				bits[i/8] |= 1 << (i % 8)
			}
		}
		return wire.WriteFrame(s, wire.EncodeBlob(wire.BlobHolding{Bits: bits}))
	case wire.BlobRenew:
		bits := make([]byte, (len(m.IDs)+7)/8)
		for i, id := range m.IDs {
			if held, _ := b.objects.Renew(blob.ID(id), int64(m.Expires)); held {
				bits[i/8] |= 1 << (i % 8)
			}
		}
		return wire.WriteFrame(s, wire.EncodeBlob(wire.BlobHolding{Bits: bits}))
	case wire.BlobAudit:
		meta, err := b.objects.Meta(blob.ID(m.ID))
		if err != nil || int(m.Block) >= len(meta.Hashes) {
			return refuse(s, wire.CodeNotFound, "not held")
		}
		block, err := b.objects.Read(meta.ID, int(m.Block)*blob.BlockSize, blob.BlockSize)
		if err != nil {
			return refuse(s, wire.CodeNotFound, "not readable")
		}
		hs := make([][32]byte, len(meta.Hashes))
		for i, h := range meta.Hashes {
			hs[i] = h
		}
		return wire.WriteFrame(s, wire.EncodeBlob(wire.BlobProof{Nonce: m.Nonce, Size: uint64(meta.Size), Hashes: hs, Block: block}))
	}
	return fmt.Errorf("%w: %T opens no blob request", wire.ErrMalformed, m)
}

func refuse(s network.Stream, code wire.Code, text string) error {
	return wire.WriteFrame(s, wire.EncodeBlob(wire.BlobErr{Code: code, Text: text}))
}

// serveStore books the object against the peer's credit before it
// receives a byte of it, and unbooks it if it does not arrive whole.
func (b *blobs) serveStore(s network.Stream, r *bufio.Reader, p peer.ID, m wire.BlobStore) error {
	id := blob.ID(m.ID)
	if held, err := b.objects.Renew(id, int64(m.Expires)); held || err != nil { // no bytes follow
		return wire.WriteFrame(s, wire.EncodeBlob(wire.BlobErr{Code: wire.CodeHeld, Text: "held already"}))
	}
	owner, writer := p.String(), fmt.Sprintf("%x", m.Writer)
	b.mu.Lock()
	err := b.ledger.Accept(owner, writer, int64(m.Size))
	b.mu.Unlock()
	if err != nil {
		b.stats.refused.Add(1)
		code := map[error]wire.Code{storage.ErrNoCredit: wire.CodeNoCredit, storage.ErrOverCap: wire.CodeOverCap,
			storage.ErrFull: wire.CodeFull, storage.ErrBad: wire.CodeNoCredit}
		for e, c := range code {
			if errors.Is(err, e) {
				return refuse(s, c, err.Error())
			}
		}
		return refuse(s, wire.CodeNoCredit, err.Error())
	}
	if err := wire.WriteFrame(s, wire.EncodeBlob(wire.BlobAck{})); err != nil { // go ahead
		b.mu.Lock()
		b.ledger.Dropped(owner, writer, int64(m.Size))
		b.mu.Unlock()
		return err
	}
	data, err := readData(r, int(m.Size))
	if err == nil {
		meta := shards.Meta{ID: id, Group: m.Group, Writer: m.Writer, Owner: owner, Expires: int64(m.Expires)}
		if err = b.objects.Put(meta, data); errors.Is(err, blob.ErrCorrupt) {
			refuse(s, wire.CodeCorrupt, "the bytes do not match their id")
			err = fmt.Errorf("%w: %v", wire.ErrMalformed, err)
		}
	}
	b.mu.Lock()
	if err != nil {
		b.ledger.Dropped(owner, writer, int64(m.Size))
	}
	b.save()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return wire.WriteFrame(s, wire.EncodeBlob(wire.BlobAck{}))
}

// readData reads BlobData frames until size bytes have come.
func readData(r *bufio.Reader, size int) ([]byte, error) {
	data := make([]byte, 0, size)
	for len(data) < size {
		frame, err := wire.ReadFrame(r)
		if err != nil {
			return nil, err
		}
		m, err := wire.DecodeBlob(frame)
		if err != nil {
			return nil, err
		}
		d, ok := m.(wire.BlobData)
		if !ok || len(data)+len(d.Data) > size {
			return nil, fmt.Errorf("%w: %T where object bytes belong", wire.ErrMalformed, m)
		}
		data = append(data, d.Data...)
	}
	return data, nil
}

// serveFetch streams the asked range in whole blocks, paced by the upload
// limits.
func (b *blobs) serveFetch(s network.Stream, p peer.ID, m wire.BlobFetch) error {
	meta, err := b.objects.Meta(blob.ID(m.ID))
	if err != nil || m.Offset > uint64(meta.Size) {
		return refuse(s, wire.CodeNotFound, "not held")
	}
	n := int(m.Length)
	if n == 0 || int(m.Offset)+n > meta.Size {
		n = meta.Size - int(m.Offset)
	}
	hs := make([][32]byte, len(meta.Hashes))
	for i, h := range meta.Hashes {
		hs[i] = h
	}
	if err := wire.WriteFrame(s, wire.EncodeBlob(wire.BlobObject{Size: uint64(meta.Size), Hashes: hs})); err != nil {
		return err
	}
	b.mu.Lock()
	total, one := b.upload, b.perPeer[p]
	if one == nil {
		one = limiter(b.limits.UploadRatePerPeer)
		b.perPeer[p] = one
	}
	b.mu.Unlock()
	ctx := context.Background()
	for off := int(m.Offset); off < int(m.Offset)+n; off += wire.BlobChunk {
		chunk := min(wire.BlobChunk, int(m.Offset)+n-off)
		data, err := b.objects.Read(meta.ID, off, chunk)
		if err != nil {
			return err
		}
		if err := one.WaitN(ctx, len(data)); err != nil {
			return err
		}
		if err := total.WaitN(ctx, len(data)); err != nil {
			return err
		}
		if err := wire.WriteFrame(s, wire.EncodeBlob(wire.BlobData{Data: data})); err != nil {
			return err
		}
		b.stats.served.Add(uint64(len(data)))
	}
	return nil
}
