package main

import (
	"fmt"
	"io"
	"strings"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/node"
	"hearsay/internal/view"

	"github.com/spf13/cobra"
)

func (c *cli) postCmd() *cobra.Command {
	var subject, replyTo string
	cmd := &cobra.Command{
		Use:   "post GROUP TEXT",
		Short: "Write a post (TEXT - reads standard input) and print its id",
		Args:  exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			b, err := c.valueArg(args[1])
			if err != nil {
				return err
			}
			text := string(b)
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				if err := fits(g, len(text), "post"); err != nil {
					return err
				}
				var parent entry.ID
				if replyTo != "" {
					id, err := n.ResolveEntry(g.ID, replyTo)
					if err != nil {
						return fmt.Errorf("--reply-to: %w", err)
					}
					parent = id
				}
				return c.printID(n.Post(g.ID, group.Post{Subject: subject, Text: text}, parent))
			})
		},
	}
	cmd.Flags().StringVar(&subject, "subject", "", "subject line")
	cmd.Flags().StringVar(&replyTo, "reply-to", "", "id (or unique prefix) of the post this one answers")
	return cmd
}

// valueArg is a command's TEXT or VALUE argument: "-" reads standard
// input, which must fit in an entry's body. Past that it is read to the end
// (discarding it) to say how long it was.
func (c *cli) valueArg(arg string) ([]byte, error) {
	if arg != "-" {
		return []byte(arg), nil
	}
	b, err := io.ReadAll(io.LimitReader(c.stdin, entry.MaxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > entry.MaxBody {
		rest, err := io.Copy(io.Discard, c.stdin)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("standard input is %d bytes: an entry holds at most %d (large content goes in with `hearsay file put`)", int64(len(b))+rest, entry.MaxBody)
	}
	return b, nil
}

// fits refuses content of size bytes over group g's body limit, naming
// both sizes (the entry's own check counts the encoded body, which is a
// little larger than what the user gave).
func fits(g *group.Group, size int, what string) error {
	if size > int(g.Quota.MaxBody) {
		return fmt.Errorf("%s of %d bytes: group %q takes bodies of at most %d bytes (its --max-body)", what, size, g.Name, g.Quota.MaxBody)
	}
	return nil
}

func (c *cli) logCmd() *cobra.Command {
	var limit int
	var all bool
	cmd := &cobra.Command{
		Use:   "log GROUP",
		Short: "Print a group's log, oldest first (--limit N: the newest N)",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if limit < 0 {
				return fmt.Errorf("--limit must not be negative, got %d", limit)
			}
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				log, err := n.Log(g.ID, limit, all)
				if err != nil {
					return err
				}
				return printList(c, log, nil, func(l node.LogEntry) string { return humanLine(l, g) })
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "print only the newest N entries (0: all)")
	cmd.Flags().BoolVar(&all, "all", false, "include retracted, hidden and invalid entries, marked")
	return cmd
}

// humanLine renders one log entry: time, short id, author and seq, then the content.
func humanLine(l node.LogEntry, g *group.Group) string {
	var b strings.Builder
	who := l.Author[:12]
	if l.AuthorName != "" {
		who = l.AuthorName + " (" + who + ")"
	}
	fmt.Fprintf(&b, "%s  %s  %s#%d  ", l.HLC.Time().Format("2006-01-02 15:04:05"), l.ID[:12], who, l.Seq)
	if l.Status != view.Visible {
		fmt.Fprintf(&b, "(%s) ", l.Status)
	}
	switch l.Kind {
	case entry.KindGenesis:
		fmt.Fprintf(&b, "created group %q (write %s, read %s)", g.Name, g.Write, g.Read)
	case group.KindPost:
		if l.ReplyTo != "" {
			fmt.Fprintf(&b, "↳ %s  ", l.ReplyTo[:12])
		}
		if l.Subject != "" {
			fmt.Fprintf(&b, "[%s] ", l.Subject)
		}
		b.WriteString(strings.ReplaceAll(l.Text, "\n", "\n    "))
	default:
		b.WriteString(l.Summary)
	}
	return b.String()
}
