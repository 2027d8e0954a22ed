package sim

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("sim.update", false, "rewrite testdata/golden-*.json from this code (only for an intended change of model)")

// TestGolden pins the simulator's output, bit for bit: runs with a fixed
// seed, with and without faults, must print the JSON recorded in
// testdata. A change that makes the simulator leaner or faster must leave
// these files alone; one that changes them is a different simulation.
func TestGolden(t *testing.T) {
	for _, g := range []struct {
		name string
		cfg  func() Config
	}{
		{"clean-2000", func() Config { return DefaultConfig(2000, 5) }},
		{"faults-1000", func() Config {
			cfg := DefaultConfig(1000, 20)
			cfg.Drop, cfg.Dup, cfg.Crash, cfg.Churn, cfg.Seed = 0.05, 0.01, 0.1, 0.2, 3
			return cfg
		}},
		{"groups-1000", func() Config {
			cfg := DefaultConfig(1000, 30)
			cfg.Groups, cfg.GroupsPerNode, cfg.Zipf, cfg.Churn, cfg.Seed = 10, 4, 1.3, 0.1, 2
			cfg.Skew = 2 * time.Second
			return cfg
		}},
		{"partition-500", func() Config {
			cfg := DefaultConfig(500, 20)
			cfg.Partition, cfg.PartitionFor, cfg.Drop, cfg.Seed = 0.3, 5*time.Second, 0.02, 5
			return cfg
		}},
	} {
		t.Run(g.name, func(t *testing.T) {
			got, err := json.MarshalIndent(New(g.cfg()).Run(), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden-"+g.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: the same seed gave another run:\ngot  %s\nwant %s", g.name, got, want)
			}
		})
	}
}
