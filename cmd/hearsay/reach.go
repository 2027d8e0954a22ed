package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

// reachFlags are serve's flags for being reached and for reaching others
// (docs/reachability.md).
type reachFlags struct {
	reachability string
	relay        bool
	limits       node.RelayLimits
	relayData    string
	noMDNS       bool
	noPortMap    bool
	registry     bool
	dns          string
}

func addReachFlags(cmd *cobra.Command) *reachFlags {
	r := &reachFlags{limits: node.DefaultRelayLimits()}
	f := cmd.Flags()
	f.StringVar(&r.reachability, "reachability", "auto", "whether peers can dial this node: auto (AutoNAT finds out), public, or private")
	f.BoolVar(&r.relay, "relay-service", true, "relay for nodes behind NATs while this node is public, within the --relay-* limits (--relay-service=false: relay for nobody)")
	f.IntVar(&r.limits.Reservations, "relay-reservations", r.limits.Reservations, "relay: most nodes holding a slot at once")
	f.IntVar(&r.limits.CircuitsPerPeer, "relay-circuits", r.limits.CircuitsPerPeer, "relay: most relayed connections open to or from one node")
	f.IntVar(&r.limits.PerIP, "relay-per-ip", r.limits.PerIP, "relay: most slots held from one IP address")
	f.StringVar(&r.relayData, "relay-data", strconv.FormatInt(r.limits.Data, 10), "relay: bytes one relayed connection carries each way before it is reset (suffix KiB, MiB)")
	f.DurationVar(&r.limits.Duration, "relay-duration", r.limits.Duration, "relay: how long one relayed connection lasts")
	f.BoolVar(&r.noMDNS, "no-mdns", false, "do not look for nodes on the local network (mDNS), nor announce this one there")
	f.BoolVar(&r.noPortMap, "no-port-map", false, "do not ask the router to forward a port (UPnP, NAT-PMP)")
	f.BoolVar(&r.registry, "registry", false, "be a registry: a well-known meeting point that answers newcomers (implies --reachability public unless given)")
	f.StringVar(&r.dns, "dns", "", "HOST:PORT of the DNS server that resolves /dnsaddr/ bootstrap names (default: the system's)")
	return r
}

// config is the node's network configuration for these flags.
func (r *reachFlags) config(cmd *cobra.Command, listen []string) (node.NetConfig, error) {
	cfg := node.NetConfig{Listen: listen, Reach: true, PortMap: !r.noPortMap, MDNS: !r.noMDNS, Registry: r.registry, DNS: r.dns}
	reach := r.reachability
	if r.registry && !cmd.Flags().Changed("reachability") {
		reach = "public"
	}
	switch reach {
	case "auto":
		cfg.Reachability = node.ReachAuto
	case "public":
		cfg.Reachability = node.ReachPublic
	case "private":
		cfg.Reachability = node.ReachPrivate
	default:
		return cfg, fmt.Errorf("--reachability %q: want auto, public or private", r.reachability)
	}
	data, err := parseBytes(r.relayData)
	if err != nil {
		return cfg, fmt.Errorf("--relay-data: %w", err)
	}
	r.limits.Data = data
	for _, c := range []struct {
		name string
		v    int64
	}{{"--relay-reservations", int64(r.limits.Reservations)}, {"--relay-circuits", int64(r.limits.CircuitsPerPeer)},
		{"--relay-per-ip", int64(r.limits.PerIP)}, {"--relay-data", r.limits.Data}, {"--relay-duration", int64(r.limits.Duration)}} {
		if c.v <= 0 {
			return cfg, fmt.Errorf("%s must be positive (to relay for nobody: --relay-service=false)", c.name)
		}
	}
	if r.relay {
		limits := r.limits
		cfg.Relay = &limits
	}
	return cfg, nil
}

// parseBytes reads a byte count: a number, optionally followed by KiB,
// MiB or GiB.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(v), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a byte count (like 131072, 128KiB or 1MiB)", s)
	}
	return n * mult, nil
}

func (c *cli) nearbyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "nearby",
		Short: "List the nodes the registries name, nearest first by the round trip measured from this node",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			if c.network == nil {
				return errors.New("no node is running on this home: start one with `hearsay serve --bootstrap REGISTRY`")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			near, err := c.network.Nearby(ctx)
			if err != nil {
				return err
			}
			return printList(c, near, nil, func(n node.Nearby) string {
				return fmt.Sprintf("%s  %.1f ms  %s", n.ID, float64(n.RTT.Microseconds())/1000, strings.Join(n.Addrs, ","))
			})
		},
	}
}
