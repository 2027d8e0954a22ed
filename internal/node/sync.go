package node

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"sync"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/proto/negentropy"
	"hearsay/internal/store"
	"hearsay/internal/wire"
)

// reconFrame bounds each Negentropy message: well inside a wire frame.
const reconFrame = 512 << 10

// indexes are the reconciliation indexes of the groups this node has synced:
// loaded from the store on first use, then kept current by every ingest.
// A group's index loads without idx.mu held, which every ingest takes.
type indexes struct {
	mu    sync.Mutex
	trees map[entry.ID]*groupIndex
}

type groupIndex struct {
	ready chan struct{} // closed when the index is loaded, or failed to
	err   error         // why it failed; set before ready is closed

	mu      sync.Mutex // held while a Negentropy message reads the tree
	tree    negentropy.Tree
	loaded  bool
	pending []negentropy.Item // stored while the index was loading
}

// loadYield is how many ids an index load reads between yields (about a
// millisecond of work): the load of a large group is a tenth of a second
// of work that never blocks, and a local write made meanwhile (its fsync
// done, ready to run) would otherwise wait until the scheduler preempts the
// load, up to 10 ms. At each yield the load also pauses for the local
// writes in flight (writeFirst).
const loadYield = 1024

// index returns g's reconciliation index, loading it on first use. The
// load (a scan of the group's ids) holds no lock an ingest needs: entries
// stored meanwhile wait in pending, and go in when the load ends.
func (n *Node) index(g entry.ID) (*groupIndex, error) {
	n.idx.mu.Lock()
	gi, ok := n.idx.trees[g]
	if !ok {
		gi = &groupIndex{ready: make(chan struct{})}
		if n.idx.trees == nil {
			n.idx.trees = map[entry.ID]*groupIndex{}
		}
		n.idx.trees[g] = gi
	}
	n.idx.mu.Unlock()
	if ok {
		<-gi.ready
		if gi.err != nil {
			return nil, gi.err
		}
		return gi, nil
	}
	var tree negentropy.Tree
	loaded := 0
	err := n.Store.Positions(g, func(t hlc.Timestamp, id entry.ID) {
		tree.Insert(negentropy.Item{Timestamp: uint64(t), ID: id})
		if loaded++; loaded%loadYield == 0 {
			n.writes.yield()
			runtime.Gosched()
		}
	})
	gi.mu.Lock()
	if err == nil {
		gi.tree = tree
		for _, it := range gi.pending {
			gi.tree.Insert(it) // a no-op for one the scan saw
		}
		gi.loaded = true
	}
	gi.pending = nil
	gi.mu.Unlock()
	if err != nil {
		gi.err = err
		n.idx.mu.Lock()
		if n.idx.trees[g] == gi {
			delete(n.idx.trees, g)
		}
		n.idx.mu.Unlock()
	}
	close(gi.ready)
	if err != nil {
		return nil, err
	}
	return gi, nil
}

// noteStored adds newly stored entries to the indexes already loaded (or
// loading), counts them by where they came from, and tells the subscribers.
func (n *Node) noteStored(source string, outs []store.Outcome) {
	n.stats.countStored(source, outs)
	n.publish(outs)
	n.notePaused(outs)
	n.idx.mu.Lock()
	defer n.idx.mu.Unlock()
	for _, o := range outs {
		if !o.Stored() {
			continue
		}
		if gi, ok := n.idx.trees[o.Group]; ok {
			it := negentropy.Item{Timestamp: uint64(o.HLC), ID: o.ID}
			gi.mu.Lock()
			if gi.loaded {
				gi.tree.Insert(it)
			} else {
				gi.pending = append(gi.pending, it)
			}
			gi.mu.Unlock()
		}
	}
}

// ingest stores entries that came from elsewhere, with every check, keeps
// indexes and private views current, and counts refusals by reason.
func (n *Node) ingest(raws [][]byte) ([]store.Outcome, error) {
	return n.ingestPrepared(n.Store.Prepare(raws))
}

// ingestPrepared is ingest of entries already prepared (decoded, verified).
func (n *Node) ingestPrepared(p *store.Prepared) ([]store.Outcome, error) {
	outs := n.Store.Commit(p, n.now().UnixMilli())
	return outs, n.ingested(outs)
}

// ingested is what follows a commit of entries from a peer.
func (n *Node) ingested(outs []store.Outcome) error {
	n.noteStored(SourcePeer, outs)
	n.refusedMu.Lock()
	for _, o := range outs {
		if o.Err != nil {
			if n.refused == nil {
				n.refused = map[string]int{}
			}
			n.refused[store.Reason(o.Err)]++
		}
	}
	n.refusedMu.Unlock()
	return n.unsealStored(outs)
}

// Refused counts the entries refused from peers since the node started, by
// reason (store.Reason).
func (n *Node) Refused() map[string]int {
	n.refusedMu.Lock()
	defer n.refusedMu.Unlock()
	return maps.Clone(n.refused)
}

// SyncResult counts what one sync session moved.
type SyncResult struct {
	Rounds   int // Negentropy messages sent
	Received int // entries fetched and stored
	Refused  int // entries fetched (or, serving, pushed to it) and refused
	// Inadmissible counts those of Refused that the group's rules refused,
	// an author's entries over its quota aside: misbehaviour of the peer,
	// unless its replica knew more (see Fault).
	Inadmissible int
	Sent         int // entries pushed
	// overQuota are the authors, up to maxOverQuota, of the entries
	// refused over their quota: the peer answers for them only if it is
	// one of those authors (relayedOverQuota).
	overQuota []entry.Author
}

// maxOverQuota bounds the authors a SyncResult keeps of the entries
// refused over quota.
const maxOverQuota = 16

// noteOverQuota keeps an author of an entry refused over its quota.
func (r *SyncResult) noteOverQuota(a entry.Author) {
	if len(r.overQuota) < maxOverQuota && !slices.Contains(r.overQuota, a) {
		r.overQuota = append(r.overQuota, a)
	}
}

// conn reads and writes messages on a stream.
type conn struct {
	r *bufio.Reader
	w io.Writer
}

func newConn(rw io.ReadWriter) *conn { return &conn{r: bufio.NewReader(rw), w: rw} }

func (c *conn) send(m wire.Message) error { return wire.WriteFrame(c.w, wire.Encode(m)) }

func (c *conn) recv() (wire.Message, error) {
	f, err := wire.ReadFrame(c.r)
	if err != nil {
		return nil, err
	}
	return wire.Decode(f)
}

// ask sends a request and reads the answer; an Err answer is a *Refused.
func (c *conn) ask(m wire.Message) (wire.Message, error) {
	if err := c.send(m); err != nil {
		return nil, err
	}
	reply, err := c.recv()
	if err != nil {
		return nil, err
	}
	if e, ok := reply.(wire.Err); ok {
		return nil, &Refused{Code: e.Code, Text: e.Text}
	}
	return reply, nil
}

// admit stores entries the peer sent in a session and counts them. It
// returns an error for an entry that does not decode or whose signature
// does not verify, after storing the others: no honest peer sends one,
// since it checked every entry before storing it.
func (n *Node) admit(raws [][]byte, res *SyncResult) ([]store.Outcome, error) {
	outs, err := n.ingest(raws)
	if err != nil {
		return outs, err
	}
	return outs, count(outs, res)
}

// count adds the outcomes of entries a peer sent to res, and returns an
// error for the first that does not decode or verify.
func count(outs []store.Outcome, res *SyncResult) error {
	var bad error
	for i, o := range outs {
		switch f := entryFault(o.Err); {
		case o.Err == nil:
			if o.Stored() {
				res.Received++
			}
		case f == FaultInadmissible && errors.Is(o.Err, group.ErrOverQuota):
			res.Refused++
			res.noteOverQuota(o.Author)
		case f == FaultInadmissible:
			res.Refused++
			res.Inadmissible++
		case f.Misbehaviour():
			res.Refused++
			if bad == nil {
				// The sentinel alone, not o.Err: its text quotes the
				// entry, which is the peer's, and this error is logged.
				bad = fmt.Errorf("entry %d of a batch: %w", i, misbehaviour(f))
			}
		default:
			res.Refused++
		}
	}
	return bad
}

// Sync reconciles group g with the peer at the other end of rw, as the
// client: it fetches what it lacks, in the peer's log order, and pushes what
// the peer lacks. A node that does not hold g yet fetches all of it: that
// is how it joins.
func (n *Node) Sync(rw io.ReadWriter, g entry.ID) (res SyncResult, err error) {
	defer func() {
		n.stats.countSession(RoleClient, err)
		n.stats.rounds.Add(uint64(res.Rounds))
	}()
	c := newConn(counted{rw, &n.stats})
	reply, err := c.ask(wire.Open{Version: wire.Version, Group: g})
	if err != nil {
		return res, err
	}
	if _, ok := reply.(wire.Ack); !ok {
		return res, fmt.Errorf("%w: %T in answer to open", wire.ErrOutOfTurn, reply)
	}
	gi, err := n.index(g)
	if err != nil {
		return res, err
	}
	sess, _ := negentropy.New(&gi.tree, reconFrame)
	gi.mu.Lock()
	msg := sess.Initiate()
	gi.mu.Unlock()
	var have, need []negentropy.ID
	for msg != nil {
		res.Rounds++
		reply, err := c.ask(wire.Recon{Msg: msg})
		if err != nil {
			return res, err
		}
		r, ok := reply.(wire.Recon)
		if !ok {
			return res, fmt.Errorf("%w: %T in answer to recon", wire.ErrOutOfTurn, reply)
		}
		gi.mu.Lock()
		msg, have, need, err = sess.Reconcile(r.Msg, have, need)
		gi.mu.Unlock()
		if err != nil {
			return res, fmt.Errorf("%w: recon: %v", wire.ErrMalformed, err)
		}
	}
	if err := n.fetch(c, entryIDs(need), &res); err != nil {
		return res, err
	}
	return res, n.push(c, g, entryIDs(have), &res)
}

func entryIDs(ids []negentropy.ID) []entry.ID {
	out := make([]entry.ID, len(ids))
	for i, id := range ids {
		out[i] = entry.ID(id)
	}
	return out
}

// fetchAhead is how many requests a fetch keeps in flight: the peer reads
// the next batches while this node verifies and commits earlier ones.
const fetchAhead = 3

// fetch asks for the needed entries in order, in batches of wire.MaxGet
// ids, keeping fetchAhead requests in flight, and ingests the answers as
// an import does (Store.IngestAll): batches are verified on every core
// while earlier ones commit, in order. Ids an answer did not bring are
// asked again in a later pass; a pass that brings none of them ends the
// fetch, so a peer cannot keep it going without delivering.
func (n *Node) fetch(c *conn, need []entry.ID, res *SyncResult) error {
	for len(need) > 0 {
		var chunks [][]entry.ID
		for rest := need; len(rest) > 0; rest = rest[min(len(rest), wire.MaxGet):] {
			chunks = append(chunks, rest[:min(len(rest), wire.MaxGet)])
		}
		sent, received := 0, 0
		for ; sent < min(fetchAhead, len(chunks)); sent++ {
			if err := c.send(wire.Get{IDs: chunks[sent]}); err != nil {
				return err
			}
		}
		// next runs on IngestAll's reader, done on its committer, both in
		// batch order; asks is the queue between them.
		var mu sync.Mutex
		var asks [][]entry.ID
		var missing []entry.ID
		var bad error
		next := func() ([][]byte, error) {
			for {
				mu.Lock()
				stop := bad
				mu.Unlock()
				if stop != nil {
					return nil, stop
				}
				if received == len(chunks) {
					return nil, io.EOF
				}
				reply, err := c.recv()
				if err != nil {
					return nil, err
				}
				es, ok := reply.(wire.Entries)
				if !ok {
					return nil, fmt.Errorf("%w: %T in answer to get", wire.ErrOutOfTurn, reply)
				}
				ask := chunks[received]
				received++
				if sent < len(chunks) {
					if err := c.send(wire.Get{IDs: chunks[sent]}); err != nil {
						return nil, err
					}
					sent++
				}
				mu.Lock()
				if len(es.Raws) == 0 { // IngestAll commits no empty batch
					missing = append(missing, ask...)
					mu.Unlock()
					continue
				}
				asks = append(asks, ask)
				mu.Unlock()
				return es.Raws, nil
			}
		}
		var ingestErr error
		done := func(outs []store.Outcome) {
			err := n.ingested(outs)
			mu.Lock()
			defer mu.Unlock()
			ask := asks[0]
			asks = asks[1:]
			if err != nil && ingestErr == nil {
				ingestErr = err
			}
			if err := count(outs, res); err != nil && bad == nil {
				bad = err
			}
			got := make(map[entry.ID]bool, len(outs))
			for _, o := range outs {
				got[o.ID] = true
			}
			for _, id := range ask {
				if !got[id] {
					missing = append(missing, id)
				}
			}
		}
		err := n.Store.IngestAll(next, func() int64 { return n.now().UnixMilli() }, done)
		if err == nil {
			err = ingestErr
		}
		if bad != nil {
			return bad
		}
		if err != nil {
			return err
		}
		if len(missing) == len(need) {
			return nil // nothing asked for came: the peer does not have it
		}
		need = missing
	}
	return nil
}

// push sends the peer the entries it lacks, in batches that fit a frame.
func (n *Node) push(c *conn, g entry.ID, have []entry.ID, res *SyncResult) error {
	var batch [][]byte
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		reply, err := c.ask(wire.Put{Raws: batch})
		if err != nil {
			return err
		}
		if _, ok := reply.(wire.Ack); !ok {
			return fmt.Errorf("%w: %T in answer to put", wire.ErrOutOfTurn, reply)
		}
		res.Sent += len(batch)
		batch, size = nil, 0
		return nil
	}
	for _, id := range have {
		raw, err := n.Store.GetRaw(g, id)
		if err != nil {
			return err
		}
		if size+len(raw) > wire.BatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch, size = append(batch, raw), size+len(raw)
	}
	return flush()
}

// ServeSync answers one sync session or probe on rw, as the server, and
// returns the groups it ended well for (a session's group; the groups a
// probe found the same) and what the client pushed. It returns when the
// client closes the stream (nil) or the session fails: Classify says
// whether the client misbehaved, for the caller to charge it. A non-nil
// admit is asked before a session or a probe's comparison of a group held
// here starts; an error from it refuses the session as busy (Err code 5;
// the session rates, synclimits.go), and ServeSync returns nil.
func (n *Node) ServeSync(rw io.ReadWriter, admit func(g entry.ID) error) (groups []entry.ID, res SyncResult, err error) {
	probe := false
	defer func() {
		if !probe { // a probe counts as a round (stats.rounds), not a session
			n.stats.countSession(RoleServer, err)
		}
	}()
	c := newConn(counted{rw, &n.stats})
	m, err := c.recv()
	if err != nil {
		return nil, res, err
	}
	if p, ok := m.(wire.Probe); ok {
		probe = true
		groups, err := n.serveProbe(c, p, admit)
		return groups, res, err
	}
	open, ok := m.(wire.Open)
	if !ok {
		c.send(wire.Err{Code: wire.CodeBadRequest, Text: "open or probe first"})
		return nil, res, fmt.Errorf("%w: %T before open", wire.ErrOutOfTurn, m)
	}
	if open.Version != wire.Version {
		return nil, res, c.send(wire.Err{Code: wire.CodeVersion, Text: fmt.Sprintf("this node speaks sync version %d", wire.Version)})
	}
	g := open.Group
	serves, err := n.servesPeers(g)
	if err != nil {
		return nil, res, err
	}
	if !serves {
		return nil, res, c.send(wire.Err{Code: wire.CodeUnknownGroup, Text: "this node does not hold the group"})
	}
	if admit != nil && admit(g) != nil {
		// Answered, like the refusals above: a stream reset could overtake
		// the answer.
		return nil, res, c.send(wire.Err{Code: wire.CodeBusy, Text: "busy: too many sync sessions now, try later"})
	}
	gi, err := n.index(g)
	if err != nil {
		return nil, res, err
	}
	if err := c.send(wire.Ack{}); err != nil {
		return nil, res, err
	}
	if err := n.serveSession(c, g, gi, &res); err != nil {
		return nil, res, err
	}
	return []entry.ID{g}, res, nil
}

// servesPeers reports whether this node serves group g to its peers: it
// holds the group and replicates it.
func (n *Node) servesPeers(g entry.ID) (bool, error) {
	_, err := n.Store.Group(g)
	if errors.Is(err, group.ErrUnknownGroup) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return n.replicates(g)
}

// serveSession answers the requests of an opened session.
func (n *Node) serveSession(c *conn, g entry.ID, gi *groupIndex, res *SyncResult) error {
	sess, _ := negentropy.New(&gi.tree, reconFrame)
	for {
		m, err := c.recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var reply wire.Message
		switch m := m.(type) {
		case wire.Recon:
			n.writes.yield()
			gi.mu.Lock()
			out, _, _, err := sess.Reconcile(m.Msg, nil, nil)
			gi.mu.Unlock()
			if err != nil {
				c.send(wire.Err{Code: wire.CodeBadRequest, Text: err.Error()})
				return fmt.Errorf("%w: recon: %v", wire.ErrMalformed, err)
			}
			n.stats.rounds.Add(1)
			res.Rounds++
			reply = wire.Recon{Msg: out}
		case wire.Get:
			es, err := n.entries(g, m.IDs)
			if err != nil {
				return err
			}
			reply = es
		case wire.Put:
			if _, err := n.admit(m.Raws, res); err != nil {
				if Classify(err).Misbehaviour() {
					c.send(wire.Err{Code: wire.CodeBadRequest, Text: "an entry is malformed or its signature does not verify"})
				}
				return err
			}
			reply = wire.Ack{}
		default:
			c.send(wire.Err{Code: wire.CodeBadRequest, Text: fmt.Sprintf("unexpected %T", m)})
			return fmt.Errorf("%w: unexpected %T", wire.ErrOutOfTurn, m)
		}
		n.writes.yield()
		if err := c.send(reply); err != nil {
			return err
		}
	}
}

// serveRead is how many ids entries reads at once (Store.GetRawMany).
const serveRead = 64

// entries answers a Get: the entries held among ids, in order, as many as
// fit a batch (at least one when any is held).
func (n *Node) entries(g entry.ID, ids []entry.ID) (wire.Entries, error) {
	var es wire.Entries
	size := 0
	// Read in parts, so that the entries read beyond the batch's bytes
	// stay few: at most serveRead of the largest.
	for len(ids) > 0 {
		part := ids[:min(len(ids), serveRead)]
		ids = ids[len(part):]
		n.writes.yield()
		raws, err := n.Store.GetRawMany(g, part)
		if err != nil {
			return es, err
		}
		for _, raw := range raws {
			if raw == nil {
				continue
			}
			if size+len(raw) > wire.BatchBytes && len(es.Raws) > 0 {
				return es, nil
			}
			es.Raws, size = append(es.Raws, raw), size+len(raw)
		}
	}
	return es, nil
}
