// Package metrics exposes a serving node to Prometheus: what it stored and
// refused, its sync sessions and broadcast traffic, its neighbours per
// group, its store's size on disk, and how long API requests take. Counters
// are read from the node when scraped, so nothing here sits on a write
// path; each node has its own registry (a devnet runs several in one
// process).
package metrics

import (
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"time"

	"hearsay/internal/node"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one node's registry.
type Metrics struct {
	reg     *prometheus.Registry
	latency *prometheus.HistogramVec
}

// New registers the node's metrics, and the Go runtime's and the process's.
func New(n *node.Node, nw *node.Network) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hearsay_api_request_duration_seconds",
			Help: "Time to answer a request to the node's HTTP server, by route (the pattern that matched) and method.",
			// Most requests take well under the 5 ms where DefBuckets start.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	m.reg.MustRegister(m.latency, collector{n, nw},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Observe records how long a request took.
func (m *Metrics) Observe(route, method string, took time.Duration) {
	if !methods[method] {
		method = "other" // a label per made-up method would let any client grow the series
	}
	m.latency.WithLabelValues(route, method).Observe(took.Seconds())
}

var methods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true, "OPTIONS": true,
	"PROPFIND": true, "PROPPATCH": true, "MKCOL": true, "COPY": true, "MOVE": true, "LOCK": true, "UNLOCK": true}

var (
	stored = prometheus.NewDesc("hearsay_entries_stored_total",
		"Entries stored, by source: own (written here), peer (sync sessions and pushes), import (export files).", []string{"source"}, nil)
	refused = prometheus.NewDesc("hearsay_entries_refused_total",
		"Entries from peers refused, by reason.", []string{"reason"}, nil)
	sessions = prometheus.NewDesc("hearsay_sync_sessions_total",
		"Sync (anti-entropy) sessions ended, by this node's role and the result.", []string{"role", "result"}, nil)
	rounds = prometheus.NewDesc("hearsay_sync_rounds_total",
		"Reconciliation messages (Negentropy messages, and probes of several groups, one each): sent as the client, answered as the server.", nil, nil)
	syncBytes = prometheus.NewDesc("hearsay_sync_bytes_total",
		"Bytes on sync streams, by direction.", []string{"direction"}, nil)
	broadcastSent = prometheus.NewDesc("hearsay_broadcast_messages_sent_total",
		"Broadcast (HyParView + Plumtree) messages sent, by type: payload (an entry pushed) or control.", []string{"type"}, nil)
	controlSent = prometheus.NewDesc("hearsay_broadcast_control_sent_total",
		"Broadcast control messages sent, by kind: join, neighbour, shuffle, trade, holds (overlay), ihave, graft-prune (tree).", []string{"kind"}, nil)
	broadcastBytes = prometheus.NewDesc("hearsay_broadcast_bytes_sent_total",
		"Bytes of broadcast messages sent, by type.", []string{"type"}, nil)
	broadcastReceived = prometheus.NewDesc("hearsay_broadcast_payloads_received_total",
		"Entries received by broadcast, duplicates included.", nil, nil)
	broadcastDelivered = prometheus.NewDesc("hearsay_broadcast_payloads_delivered_total",
		"Entries received by broadcast for the first time.", nil, nil)
	broadcastDropped = prometheus.NewDesc("hearsay_broadcast_dropped_total",
		"Broadcast messages dropped on full queues.", nil, nil)
	broadcastRefused = prometheus.NewDesc("hearsay_broadcast_refused_total",
		"Entries pushed by peers that admission refused, and so were not forwarded.", nil, nil)
	broadcastLimited = prometheus.NewDesc("hearsay_broadcast_rate_limited_total",
		"Gossip messages dropped beyond the rate limits, per peer or per group (docs/security.md).", nil, nil)
	misbehaviour = prometheus.NewDesc("hearsay_peer_misbehaviour_total",
		"Misbehaviour charged to peers, by fault (docs/security.md).", []string{"fault"}, nil)
	banned = prometheus.NewDesc("hearsay_peers_banned",
		"Peers banned now.", nil, nil)
	scored = prometheus.NewDesc("hearsay_peers_scored",
		"Peers whose score calls for more than good, by level: no-gossip, graylisted, disconnected, banned (docs/security.md).", []string{"level"}, nil)
	peerScore = prometheus.NewDesc("hearsay_peer_score",
		"Each connected peer's score (docs/security.md).", []string{"peer"}, nil)
	peers = prometheus.NewDesc("hearsay_peers_connected",
		"Peers connected.", nil, nil)
	links = prometheus.NewDesc("hearsay_overlay_links",
		"Peers that are neighbours in at least one group's overlay: one connection carries every group two peers share.", nil, nil)
	neighbours = prometheus.NewDesc("hearsay_group_neighbours",
		"Neighbours in a group's overlay (its HyParView active view).", []string{"group", "name"}, nil)
	neighbourRTT = prometheus.NewDesc("hearsay_group_neighbour_rtt_seconds",
		"Mean round trip to a group's neighbours, of those measured (absent until one is).", []string{"group", "name"}, nil)
	entries = prometheus.NewDesc("hearsay_group_entries",
		"Entries this replica holds of a group.", []string{"group", "name"}, nil)
	paused = prometheus.NewDesc("hearsay_group_paused",
		"1 for a group paused on this node for reaching the operator's caps (docs/security.md).", []string{"group", "name"}, nil)
	disk = prometheus.NewDesc("hearsay_store_disk_bytes",
		"Bytes the store takes on disk.", nil, nil)
	objects = prometheus.NewDesc("hearsay_objects_bytes",
		"Bytes of file shards and tables: held here (for this node and others), held here for others, held by others for this node.", []string{"held"}, nil)
	audits = prometheus.NewDesc("hearsay_audits_total",
		"Audits this node ran of the peers holding shards, by result.", []string{"result"}, nil)
	objectsPlaced = prometheus.NewDesc("hearsay_objects_placed_total",
		"Shards and tables sent to peers to hold (puts and repairs).", nil, nil)
	filesRepaired = prometheus.NewDesc("hearsay_files_repaired_total",
		"Files this node repaired as their repairer.", nil, nil)
	storesRefused = prometheus.NewDesc("hearsay_objects_refused_total",
		"Requests to store an object that this node refused (credit, writer cap, quota).", nil, nil)
	objectsServed = prometheus.NewDesc("hearsay_objects_served_bytes_total",
		"Bytes of objects this node sent to peers that fetched them.", nil, nil)
)

// collector reads the node when scraped.
type collector struct {
	n  *node.Node
	nw *node.Network
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{stored, refused, sessions, rounds, syncBytes, broadcastSent, controlSent, broadcastBytes,
		broadcastReceived, broadcastDelivered, broadcastDropped, broadcastRefused, broadcastLimited, misbehaviour, banned, scored, peerScore, peers, links, neighbours,
		neighbourRTT, entries, paused, disk, objects, audits, objectsPlaced, filesRepaired, storesRefused, objectsServed} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	st := c.n.Stats()
	for source, v := range st.Stored {
		counter(stored, float64(v), source)
	}
	for reason, v := range st.Refused {
		counter(refused, float64(v), reason)
	}
	for s, v := range st.Sessions {
		counter(sessions, float64(v), s.Role, s.Result)
	}
	counter(rounds, float64(st.Rounds))
	counter(syncBytes, float64(st.BytesIn), "in")
	counter(syncBytes, float64(st.BytesOut), "out")

	gs := c.nw.Gossip()
	counter(broadcastSent, float64(gs.PayloadSent), "payload")
	counter(broadcastSent, float64(gs.ControlSent), "control")
	for k, name := range node.ControlKinds {
		counter(controlSent, float64(gs.ControlByKind[k]), name)
	}
	counter(broadcastBytes, float64(gs.PayloadBytesSent), "payload")
	counter(broadcastBytes, float64(gs.ControlBytesSent), "control")
	counter(broadcastReceived, float64(gs.PayloadReceived))
	counter(broadcastDelivered, float64(gs.Delivered))
	counter(broadcastDropped, float64(gs.Dropped))
	counter(broadcastRefused, float64(gs.Refused))
	counter(broadcastLimited, float64(gs.RateLimited))
	nbanned, charged := c.nw.Bans()
	gauge(banned, float64(nbanned))
	for f, v := range charged {
		counter(misbehaviour, float64(v), f.String())
	}
	levels := c.nw.ScoreLevels()
	for _, lv := range []string{"no-gossip", "graylisted", "disconnected", "banned"} {
		gauge(scored, float64(levels[lv]), lv)
	}
	for _, p := range c.nw.Peers() {
		gauge(peerScore, p.Score, p.ID)
	}
	gauge(peers, float64(len(c.nw.Host.Network().Peers())))
	gauge(links, float64(c.nw.Links()))
	fs := c.nw.FileStats()
	gauge(objects, float64(fs.Held), "here")
	gauge(objects, float64(fs.HeldForOthers), "for-others")
	gauge(objects, float64(fs.HeldByOthers), "by-others")
	counter(audits, float64(fs.AuditsPassed), "passed")
	counter(audits, float64(fs.AuditsFailed), "failed")
	counter(objectsPlaced, float64(fs.Placed))
	counter(filesRepaired, float64(fs.Repaired))
	counter(storesRefused, float64(fs.Refused))
	counter(objectsServed, float64(fs.ServedBytes))
	if size, err := dirSize(c.n.Home.StoreDir()); err != nil {
		ch <- prometheus.NewInvalidMetric(disk, err)
	} else {
		gauge(disk, float64(size))
	}

	if ps, err := c.n.PausedGroups(); err != nil {
		ch <- prometheus.NewInvalidMetric(paused, err)
	} else {
		for _, g := range ps {
			gauge(paused, 1, g.ID.String(), g.Name)
		}
	}
	groups, err := c.n.Replicated()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(entries, err)
		return
	}
	for _, g := range groups {
		id := g.ID.String()
		sync := c.nw.SyncState(g.ID)
		gauge(neighbours, float64(len(sync.Neighbours)), id, g.Name)
		if sync.RTT > 0 {
			gauge(neighbourRTT, sync.RTT.Seconds(), id, g.Name)
		}
		n, err := c.n.Store.Count(g.ID)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(entries, err)
			continue
		}
		gauge(entries, float64(n), id, g.Name)
	}
}

// dirSize adds up the sizes of the files under dir. NB: Pebble's own
// DiskSpaceUsage leaves out the WAL being written, most of a small store.
func dirSize(dir string) (int64, error) {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // compacted away while we walked
			}
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			size += fi.Size()
		}
		return nil
	})
	return size, err
}
