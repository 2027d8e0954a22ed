package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/node"
	"hearsay/internal/view"
	"hearsay/internal/web"

	"github.com/spf13/cobra"
)

// printID prints the id of an entry (or a group) a command wrote: with
// --json as {"id": …}, the API's answer to the same write.
func (c *cli) printID(id entry.ID, err error) error {
	if err != nil {
		return err
	}
	return c.printIDString(id.String())
}

// printIDString is printID for an id the command holds as text.
func (c *cli) printIDString(id string) error {
	if c.json {
		return c.emit(web.IDBody{ID: id})
	}
	_, err := fmt.Fprintln(c.stdout, id)
	return err
}

func (c *cli) threadCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "thread GROUP ID",
		Short: "Print the tree of replies under a post",
		Args:  exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				id, err := n.ResolveEntry(g.ID, args[1])
				if err != nil {
					return err
				}
				v, err := n.View(g.ID)
				if err != nil {
					return err
				}
				root, err := v.Thread(id)
				if err != nil {
					return err
				}
				names, err := n.NamesOf(v)
				if err != nil {
					return err
				}
				if c.json {
					return c.emit(node.Thread(root, names, all))
				}
				var b strings.Builder
				printThread(&b, root, names, "", all)
				_, err = io.WriteString(c.stdout, b.String())
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "show the content of retracted, hidden and invalid posts, marked")
	return cmd
}

// printThread draws a post and its replies; a withdrawn post keeps its place
// (its replies stay readable) but not its content, unless all is set.
func printThread(b *strings.Builder, n *view.Node, names *node.Names, indent string, all bool) {
	e := n.Entry
	fmt.Fprintf(b, "%s%s  %s  %s  ", indent, e.HLC.Time().Format("2006-01-02 15:04"), e.ID.Short(), names.Label(e.Author))
	switch {
	case n.Status != view.Visible && !all:
		fmt.Fprintf(b, "(%s)\n", n.Status)
	default:
		if n.Status != view.Visible {
			fmt.Fprintf(b, "(%s) ", n.Status)
		}
		if n.Post.Subject != "" {
			fmt.Fprintf(b, "[%s] ", n.Post.Subject)
		}
		fmt.Fprintf(b, "%s\n", strings.ReplaceAll(n.Post.Text, "\n", "\n"+indent+"    "))
	}
	for _, ch := range n.Children {
		printThread(b, ch, names, indent+"  ", all)
	}
}

func (c *cli) setCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "set", Short: "Distributed sets: add, remove and list elements"}
	for _, op := range []string{group.OpAdd, group.OpRemove} {
		cmd.AddCommand(&cobra.Command{
			Use:   op + " GROUP SET ELEMENT",
			Short: strings.ToUpper(op[:1]) + op[1:] + " an element (the latest op per element wins)",
			Args:  exactArgs(3),
			RunE: func(_ *cobra.Command, args []string) error {
				return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
					return c.printID(n.SetOp(g.ID, args[1], args[2], op == group.OpAdd))
				})
			},
		})
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list GROUP SET",
		Short: "List a set's elements",
		Args:  exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withView(args[0], func(v *view.View) error {
				els, err := v.Set(args[1])
				if err != nil {
					return err
				}
				return printList(c, els, func(el view.Element) any {
					return map[string]any{"element": el.Value, "author": el.Author.String(), "hlc": el.At.HLC, "id": el.At.ID.String()}
				}, func(el view.Element) string { return el.Value })
			})
		},
	})
	return cmd
}

func (c *cli) dirCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dir",
		Short: "A versioned directory: paths with values, every version kept",
		Long: "Paths are segments joined by /, none empty, . or .., without control characters;\n" +
			"one leading / is dropped (\"/a/b\" is \"a/b\": every path starts at the group's root).\n" +
			"get writes a value byte for byte, as stored; on a terminal, text gets a final newline if it has none.\n" +
			"rm writes a tombstone: history keeps every version, and other replicas may keep theirs —\n" +
			"deletion cannot be guaranteed in a replicated store.",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "put GROUP PATH VALUE",
		Short: "Write a new version of a path (VALUE - reads standard input)",
		Args:  exactArgs(3),
		RunE: func(_ *cobra.Command, args []string) error {
			value, err := c.valueArg(args[2])
			if err != nil {
				return err
			}
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				if err := fits(g, len(value), "value"); err != nil {
					return fmt.Errorf("%w; large content goes in with `hearsay file put`", err)
				}
				return c.printID(n.DirPut(g.ID, dirPath(args[1]), value))
			})
		},
	}, &cobra.Command{
		Use:   "rm GROUP PATH",
		Short: "Remove a path (a tombstone; its history stays)",
		Args:  exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				return c.printID(n.DirRm(g.ID, dirPath(args[1])))
			})
		},
	}, c.dirGetCmd(), &cobra.Command{
		Use:   "find GROUP PREFIX",
		Short: "List the live paths that start with PREFIX",
		Args:  exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withView(args[0], func(v *view.View) error {
				vers, err := v.Find(dirPath(args[1]))
				if err != nil {
					return err
				}
				return printList(c, vers, func(v view.Version) any { return node.Version(v) }, func(ver view.Version) string { return ver.Path })
			})
		},
	}, &cobra.Command{
		Use:   "history GROUP PATH",
		Short: "List every version of a path, newest first",
		Args:  exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withView(args[0], func(v *view.View) error {
				vers, err := v.History(dirPath(args[1]))
				if err != nil {
					return err
				}
				return printList(c, vers, func(v view.Version) any { return node.Version(v) }, func(ver view.Version) string {
					line := fmt.Sprintf("%s  %-3s  %s  %s", ver.At.HLC.Time().Format("2006-01-02 15:04:05"), ver.Op, ver.At.ID.Short(), ver.Author.Short())
					if ver.Status != view.Visible {
						line += "  (" + string(ver.Status) + ")"
					}
					return line
				})
			})
		},
	})
	return cmd
}

func (c *cli) dirGetCmd() *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "get GROUP PATH [--version ID]",
		Short: "Print a path's latest value, or the value of one of its versions",
		Args:  exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				v, err := n.View(g.ID)
				if err != nil {
					return err
				}
				ver, op, err := n.DirVersion(v, dirPath(args[1]), version)
				if err != nil {
					return err
				}
				if c.json {
					return c.emit(node.Version(ver).WithOp(op))
				}
				if op.File != nil {
					return fmt.Errorf("%q is a large file of %d bytes: read it with `hearsay file get`", args[1], op.File.Size)
				}
				if ver.Status != view.Visible {
					fmt.Fprintf(c.stderr, "hearsay: version %s is %s\n", ver.At.ID.Short(), ver.Status)
				}
				_, err = c.stdout.Write(terminalText(op.Value, isTerminal(c.stdout)))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "a version's entry id or unique prefix, as `dir history` lists them (default: the latest)")
	return cmd
}

// dirPath drops one leading slash: a directory's paths all start at its
// root, so "/a/b" can only mean "a/b".
func dirPath(arg string) string { return strings.TrimPrefix(arg, "/") }

// terminalText is value as dir get writes it: as stored, except that on a
// terminal text without a final newline gets one, so the prompt does not
// follow it on the same line. Redirected, the bytes are the value's own.
func terminalText(value []byte, tty bool) []byte {
	if !tty || len(value) == 0 || value[len(value)-1] == '\n' || !utf8.Valid(value) {
		return value
	}
	return append(slices.Clip(value), '\n')
}

// withView runs fn on the views of the group arg names.
func (c *cli) withView(arg string, fn func(*view.View) error) error {
	return c.withGroup(arg, func(n *node.Node, g *group.Group) error {
		v, err := n.View(g.ID)
		if err != nil {
			return err
		}
		return fn(v)
	})
}

func (c *cli) withdrawCmds() []*cobra.Command {
	var cmds []*cobra.Command
	for _, w := range []struct {
		use, short string
		do         func(n *node.Node, g, id entry.ID) (entry.ID, error)
	}{
		{"retract", "Withdraw one of your own entries (views hide it; replicas keep it)", (*node.Node).Retract},
		{"hide", "Hide any entry of a group you administer", (*node.Node).Hide},
	} {
		cmds = append(cmds, &cobra.Command{
			Use:   w.use + " GROUP ID",
			Short: w.short,
			Args:  exactArgs(2),
			RunE: func(_ *cobra.Command, args []string) error {
				return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
					id, err := n.ResolveEntry(g.ID, args[1])
					if err != nil {
						return err
					}
					return c.printID(w.do(n, g.ID, id))
				})
			},
		})
	}
	return cmds
}
