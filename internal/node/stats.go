package node

import (
	"io"
	"sync/atomic"

	"hearsay/internal/store"
)

// Sources of stored entries, as Stats counts them.
const (
	SourceOwn    = "own"    // written by this node
	SourcePeer   = "peer"   // from peers: sync sessions and pushes
	SourceImport = "import" // from export files
)

// Roles of this node in a sync session, and their outcomes.
const (
	RoleClient = "client"
	RoleServer = "server"

	ResultOK    = "ok"
	ResultError = "error"
)

// Session names a kind of finished sync session.
type Session struct{ Role, Result string }

// Stats are the node's running totals since it opened, for metrics. They
// only grow.
type Stats struct {
	// Stored counts the entries stored, by source; entries already held are
	// not counted.
	Stored map[string]uint64
	// Refused counts the entries refused from peers, by reason (store.Reason).
	Refused map[string]int
	// Sessions counts the sync sessions that ended, by role and result.
	Sessions map[Session]uint64
	// Rounds counts Negentropy messages: sent as the client, answered as the
	// server.
	Rounds uint64
	// BytesIn and BytesOut count what sync streams carried, frames included.
	BytesIn, BytesOut uint64
}

// stats are the counters behind Stats. Atomics, so that counting never
// waits on a lock the ingest path holds.
type stats struct {
	own, peer, imported       atomic.Uint64
	clientOK, clientErr       atomic.Uint64
	serverOK, serverErr       atomic.Uint64
	rounds, bytesIn, bytesOut atomic.Uint64
}

// Stats reads the node's counters.
func (n *Node) Stats() Stats {
	s := &n.stats
	return Stats{
		Stored:  map[string]uint64{SourceOwn: s.own.Load(), SourcePeer: s.peer.Load(), SourceImport: s.imported.Load()},
		Refused: n.Refused(),
		Sessions: map[Session]uint64{
			{RoleClient, ResultOK}: s.clientOK.Load(), {RoleClient, ResultError}: s.clientErr.Load(),
			{RoleServer, ResultOK}: s.serverOK.Load(), {RoleServer, ResultError}: s.serverErr.Load(),
		},
		Rounds: s.rounds.Load(), BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(),
	}
}

// countStored counts the entries of outs that were stored.
func (s *stats) countStored(source string, outs []store.Outcome) {
	c := map[string]*atomic.Uint64{SourceOwn: &s.own, SourcePeer: &s.peer, SourceImport: &s.imported}[source]
	for _, o := range outs {
		if o.Stored() {
			c.Add(1)
		}
	}
}

// countSession counts a session that ended with err.
func (s *stats) countSession(role string, err error) {
	switch {
	case role == RoleClient && err == nil:
		s.clientOK.Add(1)
	case role == RoleClient:
		s.clientErr.Add(1)
	case err == nil:
		s.serverOK.Add(1)
	default:
		s.serverErr.Add(1)
	}
}

// counted is a sync stream that counts the bytes it carries.
type counted struct {
	rw io.ReadWriter
	s  *stats
}

func (c counted) Read(p []byte) (int, error) {
	n, err := c.rw.Read(p)
	c.s.bytesIn.Add(uint64(n))
	return n, err
}

func (c counted) Write(p []byte) (int, error) {
	n, err := c.rw.Write(p)
	c.s.bytesOut.Add(uint64(n))
	return n, err
}
