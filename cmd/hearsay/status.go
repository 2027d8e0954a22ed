package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

type groupStatus struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Entries    uint64   `json:"entries"`
	Digest     string   `json:"digest"`
	Neighbours []string `json:"neighbours"`
	LastSync   string   `json:"last_sync"` // RFC 3339, empty if never
}

type status struct {
	PeerID  string         `json:"peer_id"`
	Running bool           `json:"running"`
	Addrs   []string       `json:"addrs"`
	APIURL  string         `json:"api_url"`
	Groups  []groupStatus  `json:"groups"`
	Refused map[string]int `json:"refused"`
}

func (c *cli) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the node: peer id, addresses, API, and per group entries, digest, neighbours, last sync",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			return c.withNode(func(n *node.Node) error {
				st := status{Addrs: []string{}, Groups: []groupStatus{}, Refused: n.Refused(), APIURL: c.apiURL, Running: c.network != nil}
				if st.Refused == nil {
					st.Refused = map[string]int{}
				}
				var err error
				if st.PeerID, err = n.PeerID(); err != nil {
					return err
				}
				if c.network != nil {
					st.Addrs = c.network.Addrs()
				}
				gs, err := n.Store.Groups()
				if err != nil {
					return err
				}
				for _, g := range gs {
					info, err := n.GroupInfo(g)
					if err != nil {
						return err
					}
					gst := groupStatus{ID: info.ID, Name: info.Name, Entries: info.Entries, Digest: info.Digest, Neighbours: []string{}}
					if c.network != nil {
						sync := c.network.SyncState(g.ID)
						if sync.Neighbours != nil {
							gst.Neighbours = sync.Neighbours
						}
						if !sync.LastSync.IsZero() {
							gst.LastSync = sync.LastSync.UTC().Format(time.RFC3339)
						}
					}
					st.Groups = append(st.Groups, gst)
				}
				if c.json {
					return c.emit(st)
				}
				return c.printStatus(st)
			})
		},
	}
}

func (c *cli) printStatus(st status) error {
	var b strings.Builder
	fmt.Fprintf(&b, "peer id   %s\n", st.PeerID)
	if !st.Running {
		fmt.Fprintf(&b, "node      not running (start it with `hearsay serve`)\n")
	}
	for _, a := range st.Addrs {
		fmt.Fprintf(&b, "address   %s\n", a)
	}
	if st.APIURL != "" {
		fmt.Fprintf(&b, "api       %s\n", st.APIURL)
	}
	for _, g := range st.Groups {
		last := g.LastSync
		if last == "" {
			last = "never synced"
		}
		fmt.Fprintf(&b, "group     %s  %-16s %6d entries  digest %s  %d neighbours  %s\n", g.ID[:12], g.Name, g.Entries, g.Digest[:12], len(g.Neighbours), last)
	}
	_, err := fmt.Fprint(c.stdout, b.String())
	return err
}

func (c *cli) peersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "peers",
		Short: "List connected peers: addresses, groups synced, bytes in and out",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			if c.network == nil {
				return errors.New("no node is running on this home: start one with `hearsay serve`")
			}
			return printList(c, c.network.Peers(), nil, func(p node.PeerInfo) string {
				return fmt.Sprintf("%s  %s  %d groups  in %d B  out %d B  %d violations", p.ID, strings.Join(p.Addrs, ","), len(p.Groups), p.BytesIn, p.BytesOut, p.Violations)
			})
		},
	}
}
