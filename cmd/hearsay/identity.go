package main

import (
	"fmt"

	"hearsay/internal/home"

	"github.com/spf13/cobra"
)

func (c *cli) initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the home: an Ed25519 identity and a config (an existing key is kept)",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			h, created, err := c.initHome()
			if err != nil {
				return err
			}
			if !created {
				fmt.Fprintf(c.stderr, "%s is already initialized; its key is unchanged\n", h.Dir)
			}
			return c.printAuthor(h)
		},
	}
}

// initHome creates the home unless it exists, saying so when it does.
func (c *cli) initHome() (*home.Home, bool, error) {
	dir, err := c.homeDir()
	if err != nil {
		return nil, false, err
	}
	h, created, err := home.Init(dir)
	if err == nil && created {
		fmt.Fprintf(c.stderr, "initialized %s\n", dir)
	}
	return h, created, err
}

func (c *cli) idCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "id",
		Short: "Print this node's author id (its Ed25519 public key)",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			dir, err := c.homeDir()
			if err != nil {
				return err
			}
			h, err := home.Open(dir)
			if err != nil {
				return err
			}
			return c.printAuthor(h)
		},
	}
}

func (c *cli) printAuthor(h *home.Home) error {
	if c.json {
		return c.emit(map[string]string{"author": h.Author.String(), "home": h.Dir})
	}
	_, err := fmt.Fprintln(c.stdout, h.Author)
	return err
}
