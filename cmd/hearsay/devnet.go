package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

func (c *cli) devnetCmd() *cobra.Command {
	var count int
	var dir string
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run N nodes on loopback sharing a demo group, to try hearsay out (Ctrl-C stops them all)",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			if count < 1 || count > 64 {
				return fmt.Errorf("-n must be 1..64, got %d", count)
			}
			if dir == "" {
				tmp, err := os.MkdirTemp("", "hearsay-devnet-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				dir = tmp
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			nodes, g, err := c.startDevnet(ctx, dir, count)
			defer func() {
				stop()
				for _, r := range nodes {
					r.close()
				}
			}()
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "devnet of %d nodes in %s, sharing group \"demo\" %s\n", count, dir, g)
			for i, r := range nodes {
				fmt.Fprintf(c.stdout, "node%d  home %s  api %s  p2p %s\n", i+1, r.h.Dir, r.apiURL, r.nw.Addrs()[0])
			}
			last := nodes[len(nodes)-1].h.Dir
			fmt.Fprintf(c.stdout, "try:   hearsay --home %s post demo \"hello\"\n", nodes[0].h.Dir)
			fmt.Fprintf(c.stdout, "then:  hearsay --home %s log demo\n", last)
			fmt.Fprintf(c.stdout, "or in a browser: %s\n", nodes[0].web.LoginURL())
			fmt.Fprintln(c.stdout, "Ctrl-C stops them all.")
			<-ctx.Done()
			fmt.Fprintln(c.stderr, "stopping the devnet")
			return nil
		},
	}
	cmd.Flags().IntVarP(&count, "nodes", "n", 3, "how many nodes")
	cmd.Flags().StringVar(&dir, "dir", "", "where the nodes' homes go (default: a temporary directory, removed on exit)")
	return cmd
}

// startDevnet starts count nodes under dir; the first creates an open group
// "demo" and the others join it from the first and keep it as bootstrap.
func (c *cli) startDevnet(ctx context.Context, dir string, count int) ([]*runningNode, string, error) {
	var nodes []*runningNode
	var first string
	var gid entry.ID
	for i := range count {
		h, _, err := home.Init(filepath.Join(dir, fmt.Sprintf("node%d", i+1)))
		if err != nil {
			return nodes, "", err
		}
		var bootstrap []string
		if i > 0 {
			bootstrap = []string{first}
		}
		r, err := c.startNode(ctx, h, node.NetConfig{Listen: []string{"/ip4/127.0.0.1/tcp/0"}}, "127.0.0.1:0", bootstrap)
		if err != nil {
			return nodes, "", err
		}
		nodes = append(nodes, r)
		if i == 0 {
			first = r.nw.Addrs()[0]
			if gid, err = r.n.CreateGroup(group.Genesis{Name: "demo", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota}); err != nil {
				return nodes, "", err
			}
			continue
		}
		jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err = r.nw.SyncWith(jctx, first, gid)
		cancel()
		if err != nil {
			return nodes, "", errors.Join(fmt.Errorf("node%d joining demo", i+1), err)
		}
	}
	return nodes, gid.String(), nil
}
