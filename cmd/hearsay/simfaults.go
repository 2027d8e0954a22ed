package main

import (
	"errors"
	"fmt"
	"time"

	"hearsay/internal/sim"

	"github.com/spf13/cobra"
)

func (c *cli) simFaultsCmd() *cobra.Command {
	var nodes, posts, seeds int
	var from uint64
	cmd := &cobra.Command{
		Use:   "faults",
		Short: "Run many seeds of random faults, checking the protocol's invariants after every event",
		Long: "Each seed draws its own faults — message loss and duplication, a partition that heals, crashes,\n" +
			"churn with restarts, link latencies, post rate — and runs --nodes nodes and --posts posts on the\n" +
			"real overlay, broadcast and reconciliation cores. After every event the node it reached is\n" +
			"checked (views within bounds, no duplicate or self, no post it held lost), and at the end every\n" +
			"post a live node holds must be on every live node. A violation names its seed; --from SEED\n" +
			"--seeds 1 replays it exactly. The exit code is 1 when any invariant broke.",
		Args: exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			if nodes < 2 || posts < 1 || seeds < 1 {
				return errors.New("--nodes must be at least 2, --posts and --seeds at least 1")
			}
			rep := sim.RunFaults(nodes, posts, seeds, from, time.Now)
			if c.json {
				if err := c.emit(rep); err != nil {
					return err
				}
			} else {
				for _, v := range rep.Violations {
					fmt.Fprintln(c.stdout, v)
				}
				fmt.Fprintf(c.stdout, "%d seeds (%d..%d) of %d nodes: %d events, %d copies refused as from the future, %d violations, %v (%.0f events/s)\n",
					rep.Seeds, rep.From, rep.From+uint64(rep.Seeds)-1, rep.Nodes, rep.Events, rep.Future, len(rep.Violations),
					rep.Took.Round(time.Millisecond), float64(rep.Events)/rep.Took.Seconds())
			}
			if len(rep.Violations) > 0 {
				return fmt.Errorf("%d invariant violations; replay one with --from SEED --seeds 1", len(rep.Violations))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 50, "nodes per run")
	cmd.Flags().IntVar(&posts, "posts", 20, "posts per run")
	cmd.Flags().IntVar(&seeds, "seeds", 1000, "how many seeds")
	cmd.Flags().Uint64Var(&from, "from", 1, "the first seed")
	return cmd
}
