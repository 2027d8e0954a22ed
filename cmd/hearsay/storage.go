package main

import (
	"fmt"
	"slices"

	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

func (c *cli) storageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "storage",
		Short: "What this node holds for whom, what others hold for it, credit per peer, and the limits",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			return c.withNode(func(n *node.Node) error {
				rep, err := n.StorageReport(c.network)
				if err != nil {
					return err
				}
				if c.json {
					return c.emit(rep)
				}
				l := rep.Limits
				fmt.Fprintf(c.stdout, "held here: %d bytes, %d of them for others\n", rep.Held, rep.HeldFor)
				fmt.Fprintf(c.stdout, "limits: quota %s, per writer %s, free per peer %s, ratio %g, upload %s/s (per peer %s/s), download %s/s\n",
					orNone(l.Quota), orNone(l.WriterCap), orNone(l.Free), l.Ratio, orNone(l.UploadRate), orNone(l.UploadRatePerPeer), orNone(l.DownloadRate))
				peers := make([]string, 0, len(rep.Accounts))
				for p := range rep.Accounts {
					peers = append(peers, p)
				}
				slices.Sort(peers)
				for _, p := range peers {
					a := rep.Accounts[p]
					fmt.Fprintf(c.stdout, "%s\tholds for it %d\tit holds %d\tcredit %d\taudits %d passed, %d failed\n",
						shortID(p), a.HeldFor, a.HeldBy, rep.Credit[p], a.AuditsPassed, a.AuditsFailed)
				}
				return nil
			})
		},
	}
	cmd.AddCommand(c.storageLimitsCmd())
	return cmd
}

func shortID(p string) string {
	if len(p) > 12 {
		return "…" + p[len(p)-12:]
	}
	return p
}

func orNone(n int64) string {
	if n <= 0 {
		return "none"
	}
	return fmt.Sprint(n)
}

func (c *cli) storageLimitsCmd() *cobra.Command {
	var l node.StorageLimits
	cmd := &cobra.Command{
		Use:   "limits",
		Short: "Set what this node stores for others (bytes; 0: no limit) and how fast it serves shards (bytes/s)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withNode(func(n *node.Node) error {
				sf, err := node.ReadStorage(n.Home.Dir)
				if err != nil {
					return err
				}
				cur := sf.Limits
				if c.network != nil {
					cur, _ = c.network.Ledger()
				}
				set := func(name string, dst *int64, v int64) {
					if cmd.Flags().Changed(name) {
						*dst = v
					}
				}
				set("quota", &cur.Quota, l.Quota)
				set("writer-cap", &cur.WriterCap, l.WriterCap)
				set("free", &cur.Free, l.Free)
				set("upload-rate", &cur.UploadRate, l.UploadRate)
				set("upload-rate-per-peer", &cur.UploadRatePerPeer, l.UploadRatePerPeer)
				set("download-rate", &cur.DownloadRate, l.DownloadRate)
				set("audit-every", &cur.AuditEvery, l.AuditEvery)
				set("repair-every", &cur.RepairEvery, l.RepairEvery)
				if cmd.Flags().Changed("ratio") {
					if l.Ratio < 0 {
						return fmt.Errorf("--ratio %g: want 0 or more bytes stored per byte held", l.Ratio)
					}
					cur.Ratio = l.Ratio
				}
				if cmd.Flags().Changed("repair-slack") {
					if l.RepairSlack < 0 || l.RepairSlack > 1 {
						return fmt.Errorf("--repair-slack %g: want a fraction in [0, 1]", l.RepairSlack)
					}
					cur.RepairSlack = l.RepairSlack
				}
				for _, v := range []int64{cur.Quota, cur.WriterCap, cur.Free, cur.UploadRate, cur.UploadRatePerPeer, cur.DownloadRate, cur.AuditEvery, cur.RepairEvery} {
					if v < 0 {
						return fmt.Errorf("a limit of %d: want 0 (none) or more", v)
					}
				}
				if c.network != nil {
					return c.network.SetStorageLimits(cur)
				}
				return node.WriteStorageLimits(n.Home.Dir, cur)
			})
		},
	}
	cmd.Flags().Int64Var(&l.Quota, "quota", 0, "bytes held for others in all")
	cmd.Flags().Int64Var(&l.WriterCap, "writer-cap", 0, "bytes held for any one writer key")
	cmd.Flags().Int64Var(&l.Free, "free", 0, "bytes any peer may store before it has earned credit")
	cmd.Flags().Float64Var(&l.Ratio, "ratio", 0, "bytes a peer may store per byte it holds for this node")
	cmd.Flags().Int64Var(&l.UploadRate, "upload-rate", 0, "bytes/s this node serves shards at, in all")
	cmd.Flags().Int64Var(&l.UploadRatePerPeer, "upload-rate-per-peer", 0, "bytes/s to any one peer")
	cmd.Flags().Int64Var(&l.DownloadRate, "download-rate", 0, "bytes/s this node fetches shards at, in all")
	cmd.Flags().Int64Var(&l.AuditEvery, "audit-every", 0, "mean seconds between two audits of peers holding this node's shards (takes effect at the next start)")
	cmd.Flags().Float64Var(&l.RepairSlack, "repair-slack", 0, "fraction of a stripe's parity shards that may be missing before it is repaired (0: repair any loss)")
	cmd.Flags().Int64Var(&l.RepairEvery, "repair-every", 0, "seconds between two checks of the files this node holds shards of (next start)")
	return cmd
}
