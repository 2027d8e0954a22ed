package main

import (
	"fmt"
	"sort"
	"strings"

	"hearsay/internal/entry"
	"hearsay/internal/home"
	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

func (c *cli) profileCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "profile", Short: "Your display name: signed into the groups you write to"}
	var about string
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Sign NAME as your display name into every group this node writes to, and into each group it first writes to later",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withNode(func(n *node.Node) error {
				res, err := n.SetProfile(home.Profile{Name: args[0], About: about})
				if err != nil {
					return err
				}
				written := 0
				for _, r := range res {
					if r.Error == "" {
						written++
					}
				}
				if !c.json {
					for _, r := range res {
						if r.Error != "" {
							fmt.Fprintf(c.stderr, "%s (%s): not written: %s\n", r.Name, r.Group[:12], r.Error)
						}
					}
				}
				return printList(c, []string{fmt.Sprintf("display name %q signed into %d of %d groups", args[0], written, len(res))},
					func(string) any { return map[string]any{"name": args[0], "about": about, "groups": res} },
					func(s string) string { return s })
			})
		},
	}
	set.Flags().StringVar(&about, "about", "", "a short description of you (at most 256 bytes)")
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the display name this node signs",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			return c.withNode(func(n *node.Node) error {
				p, ok, err := n.Home.Profile()
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("no display name set: hearsay profile set NAME")
				}
				if c.json {
					return c.emit(p)
				}
				_, err = fmt.Fprintln(c.stdout, strings.TrimSpace(p.Name+"  "+p.About))
				return err
			})
		},
	}
	cmd.AddCommand(set, show)
	return cmd
}

func (c *cli) petnameCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "petname", Short: "Your own names for authors: local, never signed or sent; they win over display names"}
	set := &cobra.Command{
		Use:   "set AUTHOR NAME",
		Short: "Call AUTHOR (a full author id) NAME on this node",
		Args:  exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			a, err := entry.ParseAuthor(args[0])
			if err != nil {
				return fmt.Errorf("author: %w", err)
			}
			return c.withNode(func(n *node.Node) error { return n.SetPetname(a, args[1]) })
		},
	}
	rm := &cobra.Command{
		Use:   "rm AUTHOR",
		Short: "Forget the petname of AUTHOR",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			a, err := entry.ParseAuthor(args[0])
			if err != nil {
				return fmt.Errorf("author: %w", err)
			}
			return c.withNode(func(n *node.Node) error { return n.SetPetname(a, "") })
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Print the petnames",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			return c.withNode(func(n *node.Node) error {
				pets, err := n.Home.Petnames()
				if err != nil {
					return err
				}
				var authors []string
				for a := range pets {
					authors = append(authors, a)
				}
				sort.Strings(authors)
				return printList(c, authors, func(a string) any { return map[string]string{"author": a, "name": pets[a]} },
					func(a string) string { return a + "  " + pets[a] })
			})
		},
	}
	cmd.AddCommand(set, rm, list)
	return cmd
}
