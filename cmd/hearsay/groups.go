package main

import (
	"fmt"
	"slices"
	"strings"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

func (c *cli) groupCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Create, list and inspect groups"}
	cmd.AddCommand(c.groupCreateCmd(), c.groupListCmd(), c.groupShowCmd(), c.groupJoinCmd(), c.groupLeaveCmd(), c.memberCmd())
	cmd.AddCommand(c.groupCapsCmds()...)
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
		Short: "Let AUTHOR (an id from `hearsay id`, or a unique prefix of one this node knows) write to a members group",
		Args:  exactArgs(2),
		RunE:  func(_ *cobra.Command, args []string) error { return c.setMember(args, true, admin) },
	}
	add.Flags().BoolVar(&admin, "admin", false, "also let AUTHOR manage members and hide entries")
	remove := &cobra.Command{
		Use:   "remove GROUP AUTHOR",
		Short: "Stop AUTHOR (an id or a unique prefix) writing from now on (what it wrote before stays)",
		Args:  exactArgs(2),
		RunE:  func(_ *cobra.Command, args []string) error { return c.setMember(args, false, false) },
	}
	cmd.AddCommand(add, remove)
	return cmd
}

func (c *cli) setMember(args []string, add, admin bool) error {
	return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
		a, err := resolveAuthor(n, args[1])
		if err != nil {
			return fmt.Errorf("author: %w", err)
		}
		return c.printID(n.SetMember(g.ID, a, add, admin))
	})
}

// hideAuthorCmds are hide-author and unhide-author: every entry of an
// author in a group, not one entry as `hide` does, and in any group, open
// ones too, where removing a member does not apply.
func (c *cli) hideAuthorCmds() []*cobra.Command {
	var cmds []*cobra.Command
	for _, w := range []struct {
		use, short string
		hide       bool
	}{
		{"hide-author", "Hide every entry of AUTHOR (an id, or a unique prefix of one this node knows) in a group you administer, written before or after; its entries are still stored and replicated", true},
		{"unhide-author", "Show the entries of an author that hide-author hid again", false},
	} {
		cmds = append(cmds, &cobra.Command{
			Use:   w.use + " GROUP AUTHOR",
			Short: w.short,
			Args:  exactArgs(2),
			RunE: func(_ *cobra.Command, args []string) error {
				return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
					a, err := resolveAuthor(n, args[1])
					if err != nil {
						return fmt.Errorf("author: %w", err)
					}
					return c.printID(n.HideAuthor(g.ID, a, w.hide))
				})
			},
		})
	}
	return cmds
}

// resolveAuthor reads an author's full id, or a unique prefix (6 hex
// digits or more) of an author this node knows: itself, and the members,
// equivocators and hidden authors of the groups it holds. An author met
// nowhere here needs the full id, which `hearsay id` prints on their node.
func resolveAuthor(n *node.Node, arg string) (entry.Author, error) {
	if len(arg) == 64 {
		return entry.ParseAuthor(arg)
	}
	arg = strings.ToLower(arg)
	if len(arg) < 6 || len(arg) > 64 || strings.Trim(arg, "0123456789abcdef") != "" {
		return entry.Author{}, fmt.Errorf("%w %q: want 64 hex digits, or a unique prefix of 6 or more of an author this node knows", entry.ErrMalformedID, arg)
	}
	known := map[entry.Author]bool{n.Home.Author: true}
	gs, err := n.Store.Groups()
	if err != nil {
		return entry.Author{}, err
	}
	for _, g := range gs {
		v, err := n.View(g.ID)
		if err != nil {
			return entry.Author{}, err
		}
		for _, m := range v.Members().Members() {
			known[m.Author] = true
		}
		for _, h := range v.HiddenAuthors() {
			known[h.Author] = true
		}
		eqs, err := n.Store.Equivocations(g.ID)
		if err != nil {
			return entry.Author{}, err
		}
		for _, e := range eqs {
			known[e.Author] = true
		}
	}
	var match []string
	for a := range known {
		if strings.HasPrefix(a.String(), arg) {
			match = append(match, a.String())
		}
	}
	slices.Sort(match)
	switch len(match) {
	case 0:
		return entry.Author{}, fmt.Errorf("no author this node knows (itself, members, equivocators and hidden authors of its groups) starts with %s: give the full 64-digit id (`hearsay id` on their node prints it)", arg)
	case 1:
		return entry.ParseAuthor(match[0])
	}
	return entry.Author{}, fmt.Errorf("%s is the start of %d authors' ids: give more of it", arg, len(match))
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
				same, err := namesakes(n, g.Name)
				if err != nil {
					return err
				}
				id, err := n.CreateGroup(g)
				if err == nil && len(same) > 0 {
					fmt.Fprintf(c.stderr, "hearsay: warning: %s already named %q (%s): commands given the name will ask which; pick one by an id prefix, such as %s\n",
						map[bool]string{true: "a group is", false: "groups are"}[len(same) == 1], g.Name, strings.Join(same, ", "), id.String()[:8])
				}
				return c.printID(id, err)
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

// namesakes are the short ids of the groups n holds that are named name.
func namesakes(n *node.Node, name string) ([]string, error) {
	gs, err := n.Store.Groups()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, g := range gs {
		if g.Name == name {
			ids = append(ids, g.ID.Short())
		}
	}
	return ids, nil
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
					if info.Paused != nil {
						left += "  (paused)"
					}
					return fmt.Sprintf("%s  %-20s  %s/%s  %s%s", info.ID, info.Name, info.Write, info.Read, count(info.Entries, "entry", "entries"), left)
				})
			})
		},
	}
}

func (c *cli) groupShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show GROUP",
		Short: "Show a group: policies, quotas, entries, digest, equivocators, hidden authors",
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
					fmt.Fprintf(&b, "equivocator   %s (entries %s and %s share a seq)", e.Author, e.A[:12], e.B[:12])
					if e.Hidden {
						b.WriteString(", hidden\n")
					} else {
						fmt.Fprintf(&b, "; an admin's `hearsay hide-author %s %s` hides its entries\n", info.ID[:8], e.Author[:12])
					}
				}
				for _, h := range info.Hidden {
					fmt.Fprintf(&b, "hidden author %s (by %s; `hearsay unhide-author %s %s` shows it again)\n", h.Author, h.By[:12], info.ID[:8], h.Author[:12])
				}
				if info.Caps != (node.CapsInfo{}) {
					fmt.Fprintf(&b, "caps here     per day: %s entries, %s bytes\n", limit(uint64(info.Caps.EntriesPerDay)), limit(info.Caps.BytesPerDay))
				}
				if p := info.Paused; p != nil {
					fmt.Fprintf(&b, "paused here   since %s, over its cap of %s a day; `hearsay group resume %s` resumes it\n", p.Since, p.Over, info.Name)
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
