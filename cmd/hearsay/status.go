package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

func (c *cli) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the node: peer id, addresses, API, and per group entries, digest, neighbours, last sync",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			return c.withNode(func(n *node.Node) error {
				st, err := n.Status(c.network)
				if err != nil {
					return err
				}
				st.APIURL = c.apiURL
				if c.web != nil {
					st.UIURL = c.web.LoginURL()
				}
				if c.json {
					return c.emit(st)
				}
				return c.printStatus(st)
			})
		},
	}
}

func (c *cli) printStatus(st *node.Status) error {
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
	if st.UIURL != "" {
		fmt.Fprintf(&b, "web UI    %s\n", st.UIURL)
	}
	if r := st.Reach; r != nil {
		printReach(&b, r)
	}
	for _, g := range st.Groups {
		last := g.LastSync
		if last == "" {
			last = "never synced"
		}
		if g.Paused {
			last += "  PAUSED (over its caps: `hearsay group show` says more)"
		}
		rtt := ""
		switch {
		case g.NeighbourRTTMS >= 10:
			rtt = fmt.Sprintf(" (%.0f ms)", g.NeighbourRTTMS)
		case g.NeighbourRTTMS > 0:
			rtt = fmt.Sprintf(" (%.1f ms)", g.NeighbourRTTMS)
		}
		fmt.Fprintf(&b, "group     %s  %-16s %6d %-7s  digest %s  %s%s  %s\n", g.ID[:12], g.Name, g.Entries, noun(g.Entries, "entry", "entries"), g.Digest[:12], count(len(g.Neighbours), "neighbour", "neighbours"), rtt, last)
	}
	_, err := fmt.Fprint(c.stdout, b.String())
	return err
}

func (c *cli) peersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "peers",
		Short: "List connected peers: addresses, groups synced, bytes in and out, score and its parts",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			if c.network == nil {
				return errors.New("no node is running on this home: start one with `hearsay serve`")
			}
			return printList(c, c.network.Peers(), nil, func(p node.PeerInfo) string {
				return fmt.Sprintf("%s  %s  %s  in %d B  out %d B  %s  score %s", p.ID, strings.Join(p.Addrs, ","), count(len(p.Groups), "group", "groups"), p.BytesIn, p.BytesOut, count(p.Violations, "violation", "violations"), scoreText(p))
			})
		},
	}
}

// scoreText is a peer's score, its level unless good, and its nonzero
// parts in name order: "-0.75 no-gossip (inadmissible -0.75)".
func scoreText(p node.PeerInfo) string {
	t := strconv.FormatFloat(p.Score, 'f', 2, 64)
	if p.Level != "good" && p.Level != "" {
		t += " " + p.Level
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(p.Parts)) {
		parts = append(parts, name+" "+strconv.FormatFloat(p.Parts[name], 'f', 2, 64))
	}
	if len(parts) > 0 {
		t += " (" + strings.Join(parts, ", ") + ")"
	}
	return t
}

// printReach writes how the node is reached: its reachability, its relay
// slots, what it relays, and each connection, relayed or direct.
func printReach(b *strings.Builder, r *node.ReachStatus) {
	role := ""
	if r.Registry {
		role = "  (a registry)"
	}
	fmt.Fprintf(b, "reach     %s%s\n", r.Reachability, role)
	for _, a := range r.RelayReservations {
		fmt.Fprintf(b, "relayed   %s\n", a)
	}
	if rs := r.Relay; rs != nil {
		state := "relaying for others"
		if !rs.Active {
			state = "would relay for others once public"
		}
		fmt.Fprintf(b, "relay     %s: %d/%d slots, %s, %d B relayed, %d refused; at most %d B buffered, %d B or %d s a circuit\n",
			state, rs.Reservations, rs.MaxReservations, count(rs.Circuits, "circuit", "circuits"), rs.BytesRelayed, rs.ReservationsRefused+rs.CircuitsRefused,
			rs.MemoryBoundBytes, rs.DataLimitBytes, rs.DurationLimitSeconds)
	}
	direct, relayed := 0, 0
	for _, c := range r.Connections {
		if c.Relayed {
			relayed++
		} else {
			direct++
		}
	}
	fmt.Fprintf(b, "conns     %d direct, %d relayed\n", direct, relayed)
	for _, c := range r.Connections {
		kind := "direct "
		if c.Relayed {
			kind = "relayed"
		}
		fmt.Fprintf(b, "conn      %s  %s %-8s %s\n", c.Peer, kind, c.Direction, c.Addr)
	}
}
