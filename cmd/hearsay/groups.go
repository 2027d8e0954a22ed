package main

import (
	"fmt"
	"strings"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

func (c *cli) groupCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Create, list and inspect groups"}
	cmd.AddCommand(c.groupCreateCmd(), c.groupListCmd(), c.groupShowCmd(), c.groupJoinCmd(), c.groupLeaveCmd(), c.memberCmd())
	return cmd
}

func (c *cli) groupLeaveCmd() *cobra.Command {
	var purge bool
	cmd := &cobra.Command{
		Use:   "leave GROUP",
		Short: "Stop replicating a group; its entries are kept unless --purge (join it again to resume)",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				if err := n.Leave(g.ID, purge); err != nil {
					return err
				}
				what := "kept"
				if purge {
					what = "deleted here (other replicas keep theirs)"
				}
				fmt.Fprintf(c.stderr, "left %q; its entries are %s\n", g.Name, what)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&purge, "purge", false, "delete the group's entries from this node")
	return cmd
}

func (c *cli) memberCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "member", Short: "Add or remove members (admins only)"}
	var admin bool
	add := &cobra.Command{
		Use:   "add GROUP AUTHOR",
		Short: "Let AUTHOR (an id from `hearsay id`) write to a members group",
		Args:  exactArgs(2),
		RunE:  func(_ *cobra.Command, args []string) error { return c.setMember(args, true, admin) },
	}
	add.Flags().BoolVar(&admin, "admin", false, "also let AUTHOR manage members and hide entries")
	remove := &cobra.Command{
		Use:   "remove GROUP AUTHOR",
		Short: "Stop AUTHOR writing from now on (what it wrote before stays)",
		Args:  exactArgs(2),
		RunE:  func(_ *cobra.Command, args []string) error { return c.setMember(args, false, false) },
	}
	cmd.AddCommand(add, remove)
	return cmd
}

func (c *cli) setMember(args []string, add, admin bool) error {
	a, err := entry.ParseAuthor(args[1])
	if err != nil {
		return fmt.Errorf("author: %w", err)
	}
	return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
		return c.printID(n.SetMember(g.ID, a, add, admin))
	})
}

func (c *cli) groupCreateCmd() *cobra.Command {
	g := group.Genesis{Write: group.WriteMembers, Read: group.ReadPublic, Quota: group.DefaultQuota}
	var write, read string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a group owned by this node and print its id",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			g.Name, g.Write, g.Read = args[0], group.WritePolicy(write), group.ReadPolicy(read)
			return c.withNode(func(n *node.Node) error {
				id, err := n.CreateGroup(g)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(c.stdout, id)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&write, "write", string(group.WriteMembers), "who may write: open, members or owner")
	f.StringVar(&read, "read", string(group.ReadPublic), "who may read: public, or members (bodies encrypted to members)")
	f.Uint32Var(&g.Quota.MaxBody, "max-body", g.Quota.MaxBody, "largest entry body in bytes")
	f.Uint32Var(&g.Quota.EntriesPerDay, "entries-per-day", g.Quota.EntriesPerDay, "entries per author per day (0: no limit)")
	f.Uint64Var(&g.Quota.BytesPerDay, "bytes-per-day", g.Quota.BytesPerDay, "bytes per author per day (0: no limit)")
	return cmd
}

func (c *cli) groupListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the groups this node holds",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			return c.withNode(func(n *node.Node) error {
				gs, err := n.Store.Groups()
				if err != nil {
					return err
				}
				infos := make([]*node.GroupInfo, len(gs))
				for i, g := range gs {
					if infos[i], err = n.GroupInfo(g); err != nil {
						return err
					}
				}
				return printList(c, infos, nil, func(info *node.GroupInfo) string {
					left := ""
					if info.Left {
						left = "  (left)"
					}
					return fmt.Sprintf("%s  %-20s  %s/%s  %d entries%s", info.ID, info.Name, info.Write, info.Read, info.Entries, left)
				})
			})
		},
	}
}

func (c *cli) groupShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show GROUP",
		Short: "Show a group: policies, quotas, entries, digest, equivocators",
		Long:  "GROUP is a group id, a unique prefix of one (4 hex digits or more), or a unique name.",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				info, err := n.GroupInfo(g)
				if err != nil {
					return err
				}
				if c.json {
					return c.emit(info)
				}
				var b strings.Builder
				fmt.Fprintf(&b, "id            %s\nname          %s\nowner         %s\n", info.ID, info.Name, info.Owner)
				fmt.Fprintf(&b, "write / read  %s / %s\n", info.Write, info.Read)
				fmt.Fprintf(&b, "quota         body ≤ %d bytes; per author per day: %s entries, %s bytes\n",
					info.Quota.MaxBody, limit(uint64(info.Quota.EntriesPerDay)), limit(info.Quota.BytesPerDay))
				fmt.Fprintf(&b, "created       %s\nentries       %d\ndigest        %s\n", info.Created.Time().Format("2006-01-02 15:04:05Z"), info.Entries, info.Digest)
				for _, m := range info.Members[1:] { // the owner is listed above
					role := "member"
					if m.Admin {
						role = "admin"
					}
					fmt.Fprintf(&b, "%-13s %s\n", role, m.Author)
				}
				for _, e := range info.Equivs {
					fmt.Fprintf(&b, "equivocator   %s (entries %s and %s share a seq)\n", e.Author, e.A[:12], e.B[:12])
				}
				_, err = fmt.Fprint(c.stdout, b.String())
				return err
			})
		},
	}
}

func limit(v uint64) string {
	if v == 0 {
		return "unlimited"
	}
	return fmt.Sprint(v)
}
