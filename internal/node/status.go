package node

import (
	"encoding/hex"
	"time"

	"hearsay/internal/group"
)

// Status is the node at a glance, as `status --json` and the API's status
// show it.
type Status struct {
	PeerID  string         `json:"peer_id"`
	Author  string         `json:"author"`
	Running bool           `json:"running"`
	Addrs   []string       `json:"addrs"`
	APIURL  string         `json:"api_url"`
	UIURL   string         `json:"ui_url,omitempty"`
	Groups  []GroupStatus  `json:"groups"`
	Refused map[string]int `json:"refused"`
	// Reach is how the node is reached (reach.go); nil when it does not serve.
	Reach *ReachStatus `json:"reach,omitempty"`
}

// GroupStatus is one group's standing.
type GroupStatus struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Entries    uint64   `json:"entries"`
	Digest     string   `json:"digest"`
	Left       bool     `json:"left"`
	Paused     bool     `json:"paused"` // for reaching the operator's caps (group caps)
	Neighbours []string `json:"neighbours"`
	// NeighbourRTTMS is the mean round trip to the neighbours measured so
	// far, in milliseconds; 0 until one is.
	NeighbourRTTMS float64 `json:"neighbour_rtt_ms"`
	LastSync       string  `json:"last_sync"` // RFC 3339, empty if never
}

// Status reports the node; nw is nil when it does not serve.
func (n *Node) Status(nw *Network) (*Status, error) {
	st := &Status{Author: n.Home.Author.String(), Running: nw != nil, Addrs: []string{}, Groups: []GroupStatus{}, Refused: n.Refused()}
	if st.Refused == nil {
		st.Refused = map[string]int{}
	}
	var err error
	if st.PeerID, err = n.PeerID(); err != nil {
		return nil, err
	}
	if nw != nil {
		st.Addrs = nw.Addrs()
		r := nw.Reachability()
		st.Reach = &r
	}
	gs, err := n.Store.Groups()
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		count, err := n.Store.Count(g.ID)
		if err != nil {
			return nil, err
		}
		digest, err := n.Store.Digest(g.ID)
		if err != nil {
			return nil, err
		}
		gst, err := n.GroupStatus(g, nw, count, digest)
		if err != nil {
			return nil, err
		}
		st.Groups = append(st.Groups, gst)
	}
	return st, nil
}

// GroupStatus is group g's standing, given its count of entries and its
// digest (Store.Count, Store.Digest): a caller that reports often keeps a
// digest, a scan of the group's ids, until the count changes; nw is nil
// when the node does not serve.
func (n *Node) GroupStatus(g *group.Group, nw *Network, entries uint64, digest [32]byte) (GroupStatus, error) {
	left, err := n.Store.Left(g.ID)
	if err != nil {
		return GroupStatus{}, err
	}
	paused, err := n.paused(g.ID)
	if err != nil {
		return GroupStatus{}, err
	}
	gst := GroupStatus{ID: g.ID.String(), Name: g.Name, Entries: entries, Digest: hex.EncodeToString(digest[:]), Left: left, Paused: paused, Neighbours: []string{}}
	if nw != nil {
		sync := nw.SyncState(g.ID)
		if sync.Neighbours != nil {
			gst.Neighbours = sync.Neighbours
		}
		gst.NeighbourRTTMS = float64(sync.RTT.Microseconds()) / 1000
		if !sync.LastSync.IsZero() {
			gst.LastSync = sync.LastSync.UTC().Format(time.RFC3339)
		}
	}
	return gst, nil
}
