package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"hearsay/internal/sim"

	"github.com/spf13/cobra"
)

// simResult is sim.Result with what only the process can measure.
type simResult struct {
	sim.Result
	WallS    float64 `json:"wall_s"`
	MaxRSSMB float64 `json:"max_rss_mb"`
	// EventsPerS is the simulator's speed; RSSPerNode the process's peak
	// resident memory over the nodes, what a node costs to simulate.
	EventsPerS float64 `json:"events_per_s"`
	RSSPerNode float64 `json:"rss_bytes_per_node"`
}

func (c *cli) simCmd() *cobra.Command {
	cfg := sim.DefaultConfig(1000, 100)
	var cpuProfile, memProfile, attack string
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Simulate a network running the real protocol cores (deterministic: same seed, same output)",
		Long: "Builds an overlay of --nodes nodes, publishes --posts posts from random live members, runs\n" +
			"until every live node holds every post a live node holds, and prints delivery, redundancy,\n" +
			"hops, simulated latency, cost per node per entry, connections per node (distinct neighbours\n" +
			"across its groups) and idle cost per membership.\n\n" +
			"With --groups G, each node joins one to three of G groups, each group with its own overlay\n" +
			"and broadcast tree; each post goes to a random group, reaches that group's members only, and\n" +
			"the figures pool the groups. With --churn F, a fraction F of the nodes leave during the posts\n" +
			"and come back within 30 s with their stores, and half as many brand-new nodes join.\n\n" +
			"With --attack PLAN, a fraction --attackers (default 0.2) of the nodes attack during the\n" +
			"posts, running the same core; every honest node scores its peers with the node's score core\n" +
			"and bans as the node does. Delivery and latency are then the honest posts' at the honest\n" +
			"nodes, and a last line says what the attackers got: entries stored of one attacker against\n" +
			"--quota (entries per author, default 8), bans, honest peers banned, and the seconds until\n" +
			"an attacker was out of every honest active view. The plans (docs/security.md):\n" +
			"  flood         a member pushes far beyond its quota\n" +
			"  forged        entries whose signatures do not verify\n" +
			"  inadmissible  validly signed entries of a non-member\n" +
			"  equivocate    two different entries for each sequence number\n" +
			"  future        entries stamped an hour ahead\n" +
			"  malformed     oversized and malformed frames\n" +
			"  replay        old entries pushed again as new\n" +
			"  withhold      accepts everything, never forwards nor serves\n" +
			"  sybil         a fresh identity every 10 s, each flooding\n" +
			"  eclipse       every attacker joins through one victim, again and again, shuffles\n" +
			"                attackers only, and withholds\n" +
			"  quota         a member writes its whole quota at once\n" +
			"  exhaust       sync sessions opened and never finished",
		Args: exactArgs(0),
		RunE: func(cc *cobra.Command, _ []string) error {
			switch {
			case cfg.Nodes < 2:
				return fmt.Errorf("--nodes must be at least 2, got %d", cfg.Nodes)
			case cfg.Posts < 1:
				return fmt.Errorf("--posts must be at least 1, got %d", cfg.Posts)
			case cfg.GroupsPerNode < 1 || cfg.GroupsPerNode > 100:
				return fmt.Errorf("--groups-per-node must be in [1, 100], got %d", cfg.GroupsPerNode)
			case cfg.Zipf != 0 && cfg.Zipf <= 1:
				return fmt.Errorf("--zipf must be above 1 (or 0 for none), got %v", cfg.Zipf)
			case cfg.Groups < 1 || cfg.Groups > cfg.Nodes/2:
				return fmt.Errorf("--groups must be in [1, nodes/2 = %d] so every group has two members, got %d", cfg.Nodes/2, cfg.Groups)
			case cfg.Drop < 0 || cfg.Drop >= 1 || cfg.Crash < 0 || cfg.Crash >= 1 || cfg.Churn < 0 || cfg.Churn >= 1:
				return errors.New("--drop, --crash and --churn are fractions in [0, 1)")
			case cfg.Crash+cfg.Churn >= 1:
				return fmt.Errorf("--crash plus --churn must leave some nodes steady, got %.2f", cfg.Crash+cfg.Churn)
			case cfg.PostEvery <= 0:
				return fmt.Errorf("--post-every must be positive, got %v", cfg.PostEvery)
			case cfg.AntiEntropyEvery <= 0:
				return fmt.Errorf("--anti-entropy-every must be positive, got %v", cfg.AntiEntropyEvery)
			case cfg.MinLatency < 0 || cfg.MinLatency > cfg.MaxLatency:
				return fmt.Errorf("--min-latency and --max-latency must make a range [0, max], got [%v, %v]", cfg.MinLatency, cfg.MaxLatency)
			case cfg.Broadcast.PruneWindow < 0:
				return fmt.Errorf("--prune-window must not be negative, got %v", cfg.Broadcast.PruneWindow)
			case cfg.Skew < 0 || cfg.Skew > 24*time.Hour:
				return fmt.Errorf("--skew must be in [0, 24h], got %v", cfg.Skew)
			case cfg.Quota < 1:
				return fmt.Errorf("--quota must be at least 1, got %d", cfg.Quota)
			}
			if attack != "" {
				plan, err := sim.ParsePlan(attack)
				if err != nil {
					return err
				}
				if !cc.Flags().Changed("attackers") {
					cfg.Attackers = 0.2
				}
				if cfg.Attackers <= 0 || cfg.Attackers >= 1 {
					return fmt.Errorf("--attackers must be in (0, 1), got %v", cfg.Attackers)
				}
				if cfg.Crash > 0 || cfg.Churn > 0 || cfg.Groups > 1 {
					return errors.New("--attack runs in one group, without --crash and --churn")
				}
				cfg.Attack = plan
			} else if cc.Flags().Changed("attackers") || cc.Flags().Changed("quota") {
				return errors.New("--attackers and --quota want --attack")
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			limitSimMemory()
			start := time.Now()
			run := sim.New(cfg)
			r := simResult{Result: run.Run()}
			r.WallS = time.Since(start).Seconds()
			if memProfile != "" {
				// Written while the run's state is still live, so the
				// profile shows what a simulated node holds.
				if err := writeHeapProfile(memProfile); err != nil {
					return err
				}
				runtime.KeepAlive(run)
			}
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				r.MaxRSSMB = float64(ru.Maxrss) / 1024
			}
			r.EventsPerS = float64(r.Events) / r.WallS
			r.RSSPerNode = r.MaxRSSMB * (1 << 20) / float64(r.Nodes)
			if c.json {
				return c.emit(r)
			}
			// NB: the extras go on the first line only when used, so a run
			// without them prints what it always did.
			var extra string
			if r.Groups > 0 {
				extra += fmt.Sprintf(", groups %d", r.Groups)
			}
			if r.Churn > 0 {
				extra += fmt.Sprintf(", churn %.2f (joined %d)", r.Churn, r.Joined)
			}
			_, err := fmt.Fprintf(c.stdout, "nodes %d (live %d), posts %d, seed %d, drop %.2f, crash %.2f%s\n"+
				"delivery %.4f (lost %d)  rmr %.4f\nhops p50 %d p99 %d max %d  latency p50 %.0f ms p99 %.0f ms\n"+
				"per node per entry: %.2f messages, %.0f bytes\n"+
				"connections per node: mean %.2f p99 %d max %d  idle per membership: %.2f messages/s, %.0f bytes/s\n"+
				"wall %.1f s, %d events (%.0f/s), max rss %.0f MB (%.1f KB per node)\n",
				r.Nodes, r.Live, r.Posts, r.Seed, r.Drop, r.Crash, extra, r.Delivery, r.Lost, r.RMR, r.HopsP50, r.HopsP99, r.HopsMax,
				r.LatencyP50, r.LatencyP99, r.MsgsPerNodePerEntry, r.BytesPerNodePerEntry,
				r.ConnectionsMean, r.ConnectionsP99, r.ConnectionsMax, r.IdleMsgsPerMemberPerS, r.IdleBytesPerMemberPerS,
				r.WallS, r.Events, r.EventsPerS, r.MaxRSSMB, r.RSSPerNode/1024)
			if err != nil || r.Attack == nil {
				return err
			}
			a := r.Attack
			_, err = fmt.Fprintf(c.stdout, "attack %s: %d attackers; stored of one attacker max %d (quota %d, all its identities %d); "+
				"refused %d (future %d); bans %d, honest banned %d; cut off %d (not %d) after s p50 %.1f p99 %.1f max %.1f; "+
				"victim delivery %.4f, latency p50 %.0f ms p99 %.0f ms; proof holders %.4f; sessions refused %d (honest %d), peak open %d\n",
				a.Plan, a.Attackers, a.StoredMax, a.Quota, a.StoredPerAttackerMax, a.Refused, a.Future, a.Bans, a.HonestBanned,
				a.CutOff, a.NotCutOff, a.CutOffP50, a.CutOffP99, a.CutOffMax, a.VictimDelivery, a.VictimLatencyP50, a.VictimLatencyP99, a.ProofHolders,
				a.SessionsRefused, a.HonestSessionsRefused, a.PeakOpen)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&attack, "attack", "", "an attack plan (see above): a fraction --attackers of the nodes attack during the posts")
	f.Float64Var(&cfg.Attackers, "attackers", 0.2, "with --attack, the fraction of the nodes that attack")
	f.IntVar(&cfg.Quota, "quota", sim.DefaultQuota, "with --attack, the entries per author an honest node stores")
	f.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "how many nodes")
	f.IntVar(&cfg.Groups, "groups", cfg.Groups, "how many groups; each node joins one to --groups-per-node")
	f.IntVar(&cfg.GroupsPerNode, "groups-per-node", 3, "the most groups a node joins (each node: one to this many, equally likely)")
	f.BoolVar(&cfg.ShareLinks, "share-links", cfg.ShareLinks, "a node in several groups prefers, as neighbours in each, the peers it links to for another")
	f.Float64Var(&cfg.Zipf, "zipf", 0, "above 1: draw the groups nodes join from a Zipf law of this exponent (heavy-tailed group sizes); 0: uniformly")
	f.IntVar(&cfg.Posts, "posts", cfg.Posts, "how many posts")
	f.Float64Var(&cfg.Drop, "drop", 0, "probability that a message is lost")
	f.Float64Var(&cfg.Churn, "churn", 0, "fraction of nodes that leave during the posts and come back (half as many newcomers join)")
	f.Float64Var(&cfg.Crash, "crash", 0, "fraction of nodes that crash mid-run")
	f.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	f.DurationVar(&cfg.PostEvery, "post-every", cfg.PostEvery, "time between posts")
	f.DurationVar(&cfg.AntiEntropyEvery, "anti-entropy-every", cfg.AntiEntropyEvery, "each membership's anti-entropy period (hearsay serve's is 30s)")
	f.DurationVar(&cfg.Skew, "skew", 0, "each node's clock is off by up to this, either way; entries more than 10m ahead of a node's clock wait there")
	f.DurationVar(&cfg.MinLatency, "min-latency", cfg.MinLatency, "shortest one-way link latency")
	f.DurationVar(&cfg.MaxLatency, "max-latency", cfg.MaxLatency, "longest one-way link latency")
	f.DurationVar(&cfg.Broadcast.PruneWindow, "prune-window", cfg.Broadcast.PruneWindow,
		"how long a post counts as in flight when the broadcast decides which duplicates prune (0: every one)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	f.StringVar(&memProfile, "memprofile", "", "write a heap profile at the end of the run, its state still live, to this file (go tool pprof)")
	cmd.AddCommand(c.simFilesCmd(), c.simFaultsCmd())
	return cmd
}

// writeHeapProfile writes the heap profile, after a collection so that it
// holds what is live.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
