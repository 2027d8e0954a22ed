package main

import (
	"context"
	"fmt"
	"time"

	"hearsay/internal/group"
	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

// groupCapsCmds are `group caps` and `group resume`: the operator's say
// over how much a group may add to this node (docs/security.md, "Groups
// that misbehave are paused").
func (c *cli) groupCapsCmds() []*cobra.Command {
	var entries uint32
	var bytes uint64
	set := &cobra.Command{
		Use:   "caps GROUP",
		Short: "Show or set the most a group may add to this node a day, by any author; a group that reaches a cap is paused here",
		Long: "A paused group is neither replicated nor forwarded, and nothing more of it is stored, until " +
			"`hearsay group resume`. The day is the entries' own (UTC), as for the group's quotas. " +
			"Caps count from when they are set. A flag not given keeps its cap; 0 is no limit, and both 0 " +
			"remove the caps. Without flags it shows them.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				caps, err := n.Caps(g.ID)
				if err != nil {
					return err
				}
				changed := false
				if cmd.Flags().Changed("entries-per-day") {
					caps.EntriesPerDay, changed = entries, true
				}
				if cmd.Flags().Changed("bytes-per-day") {
					caps.BytesPerDay, changed = bytes, true
				}
				if changed {
					if err := n.SetCaps(g.ID, caps); err != nil {
						return err
					}
				}
				if c.json {
					return c.emit(caps)
				}
				_, err = fmt.Fprintf(c.stdout, "%s: at most %s entries and %s bytes a day\n", g.Name,
					limit(uint64(caps.EntriesPerDay)), limit(caps.BytesPerDay))
				return err
			})
		},
	}
	set.Flags().Uint32Var(&entries, "entries-per-day", 0, "entries a day, by every author together (0: no limit)")
	set.Flags().Uint64Var(&bytes, "bytes-per-day", 0, "bytes a day, by every author together (0: no limit)")
	resume := &cobra.Command{
		Use:   "resume GROUP",
		Short: "Resume a group paused for reaching its caps: the rest of that day may go beyond them",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				var ok bool
				var err error
				if c.network != nil {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					ok, err = c.network.Resume(ctx, g.ID)
				} else {
					ok, err = n.Resume(g.ID)
				}
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("%q is not paused on this node", g.Name)
				}
				if c.json {
					return c.emit(map[string]string{"group": g.ID.String()})
				}
				_, err = fmt.Fprintf(c.stdout, "resumed %q: it replicates again\n", g.Name)
				return err
			})
		},
	}
	return []*cobra.Command{set, resume}
}
