package main

import (
	"fmt"
	"time"

	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

// banCmds are `hearsay ban`, `unban` and `bans`: the operator's say over
// the ban policy (docs/security.md). On a home whose node does not serve,
// they edit the bans it loads when it starts.
func (c *cli) banCmds() []*cobra.Command {
	var d time.Duration
	ban := &cobra.Command{
		Use:   "ban PEER",
		Short: "Ban a peer: cut it from every overlay, disconnect it and refuse it on every protocol, for --for",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if d <= 0 {
				return fmt.Errorf("--for %v: want a positive duration", d)
			}
			p, err := node.ParsePeer(args[0])
			if err != nil {
				return err
			}
			return c.withNode(func(n *node.Node) error {
				if c.network != nil {
					c.network.Ban(p, d)
				} else if err := n.BanOffline(p, d); err != nil {
					return err
				}
				until := time.Now().Add(d).Format(time.RFC3339)
				if c.json {
					return c.emit(map[string]string{"peer": p.String(), "until": until})
				}
				_, err := fmt.Fprintf(c.stdout, "banned %s until %s\n", p, until)
				return err
			})
		},
	}
	ban.Flags().DurationVar(&d, "for", 24*time.Hour, "how long the ban lasts")
	unban := &cobra.Command{
		Use:   "unban PEER",
		Short: "Lift a peer's ban and forget its misbehaviour",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := node.ParsePeer(args[0])
			if err != nil {
				return err
			}
			return c.withNode(func(n *node.Node) error {
				known := false
				if c.network != nil {
					known = c.network.Unban(p)
				} else if known, err = n.UnbanOffline(p); err != nil {
					return err
				}
				if !known {
					return fmt.Errorf("%s is not banned, and this node holds nothing against it", p)
				}
				if c.json {
					return c.emit(map[string]string{"peer": p.String()})
				}
				_, err := fmt.Fprintf(c.stdout, "unbanned %s\n", p)
				return err
			})
		},
	}
	list := &cobra.Command{
		Use:   "bans",
		Short: "List the banned peers: until when, and how many bans each had",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			return c.withNode(func(n *node.Node) error {
				bans := n.BanListOffline()
				if c.network != nil {
					bans = c.network.BanList()
				}
				return printList(c, bans, nil, func(b node.BanInfo) string {
					return fmt.Sprintf("%s  until %s  (ban %d)", b.Peer, b.Until.Format(time.RFC3339), b.Count)
				})
			})
		},
	}
	return []*cobra.Command{ban, unban, list}
}
