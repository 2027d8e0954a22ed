package main

import (
	"errors"
	"fmt"
	"time"

	"hearsay/internal/sim"

	"github.com/spf13/cobra"
)

// simFilesCmd is `hearsay sim files`: the storage market's decisions over
// time, on the real placement and repair core.
func (c *cli) simFilesCmd() *cobra.Command {
	cfg := sim.DefaultStorageConfig()
	cmd := &cobra.Command{
		Use:   "files",
		Short: "Simulate files placed, lost and repaired across churning peers (the real placement and repair core)",
		Long: "Places --files files of k+m shards on --nodes nodes by rendezvous hashing, then runs --rounds\n" +
			"repair rounds in which nodes leave for good (--leave, each replaced by a newcomer), are offline\n" +
			"for a round (--offline) or throw shards away until audits expose them (--cheaters, --catch),\n" +
			"and each short file's one repairer restores k+m shards on distinct live holders.",
		Args: exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			switch {
			case cfg.Nodes < 1 || cfg.Files < 1 || cfg.Rounds < 1:
				return errors.New("--nodes, --files and --rounds must be at least 1")
			case cfg.K < 1 || cfg.M < 0 || cfg.K+cfg.M > 256:
				return fmt.Errorf("--k %d --m %d: want k ≥ 1, m ≥ 0, k+m ≤ 256", cfg.K, cfg.M)
			case cfg.Leave < 0 || cfg.Leave >= 1 || cfg.Offline < 0 || cfg.Offline >= 1 || cfg.Cheaters < 0 || cfg.Cheaters >= 1 || cfg.Catch < 0 || cfg.Catch > 1 || cfg.Slack < 0 || cfg.Slack > 1:
				return errors.New("--leave, --offline and --cheaters are fractions in [0, 1); --catch and --repair-slack in [0, 1]")
			}
			start := time.Now()
			r := sim.RunStorage(cfg)
			if c.json {
				return c.emit(struct {
					sim.StorageResult
					WallS float64 `json:"wall_s"`
				}{r, time.Since(start).Seconds()})
			}
			_, err := fmt.Fprintf(c.stdout, "nodes %d, files %d of %d+%d, rounds %d, seed %d, leave %.3f, offline %.2f, cheaters %.2f, repair slack %.2f\n"+
				"lost %d  unavailable %.5f  degraded %.5f  caught %d\n"+
				"repairs per round %.1f, shards received per node %.1f; load mean %.1f max %d shards\nwall %.1f s\n",
				cfg.Nodes, cfg.Files, cfg.K, cfg.M, cfg.Rounds, cfg.Seed, cfg.Leave, cfg.Offline, cfg.Cheaters, cfg.Slack,
				r.Lost, r.Unavailable, r.Degraded, r.Caught, r.RepairsPerRound, r.MovedPerNode, r.LoadMean, r.LoadMax, time.Since(start).Seconds())
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "how many nodes")
	f.IntVar(&cfg.Files, "files", cfg.Files, "how many files")
	f.IntVar(&cfg.K, "k", cfg.K, "data shards per stripe")
	f.IntVar(&cfg.M, "m", cfg.M, "parity shards per stripe")
	f.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "repair rounds")
	f.Float64Var(&cfg.Leave, "leave", cfg.Leave, "probability per round that a node leaves for good")
	f.Float64Var(&cfg.Offline, "offline", cfg.Offline, "probability per round that a node is offline")
	f.Float64Var(&cfg.Cheaters, "cheaters", 0, "fraction of nodes that throw every shard away")
	f.Float64Var(&cfg.Catch, "catch", cfg.Catch, "probability per round that audits expose a cheater")
	f.Float64Var(&cfg.Slack, "repair-slack", cfg.Slack, "fraction of a stripe's parity that may be missing before it is repaired (0: repair any loss)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	return cmd
}
