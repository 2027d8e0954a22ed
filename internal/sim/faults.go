package sim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// The fault suite (docs/reliability.md): many seeds, each a run with its
// own draw of faults — loss, duplication, partitions that heal, crashes,
// churn with restarts, link latencies, clock skew — and invariants
// checked after every event, not only at the end. A seed's run is a pure
// function of it, so a failing seed replays from its number (`hearsay sim
// faults --from SEED --seeds 1`).

// FaultConfig is seed's draw of faults over n nodes and posts posts.
func FaultConfig(n, posts int, seed uint64) Config {
	r := rand.New(rand.NewPCG(seed, 0xfa017))
	c := DefaultConfig(n, posts)
	c.Seed = seed
	c.Drop = []float64{0, 0.01, 0.05, 0.1}[r.IntN(4)]
	c.Dup = []float64{0, 0.01, 0.05}[r.IntN(3)]
	c.Crash = []float64{0, 0, 0.1, 0.2}[r.IntN(4)]
	c.Churn = []float64{0, 0, 0.1, 0.3}[r.IntN(4)]
	c.ChurnAway = time.Duration(5+r.IntN(30)) * time.Second
	if r.IntN(2) == 0 {
		c.Partition, c.PartitionFor = []float64{0.2, 0.5}[r.IntN(2)], time.Duration(2+r.IntN(20))*time.Second
	}
	c.MinLatency = time.Duration(1+r.IntN(20)) * time.Millisecond
	c.MaxLatency = c.MinLatency + time.Duration(r.IntN(300))*time.Millisecond
	c.PostEvery = time.Duration(20+r.IntN(500)) * time.Millisecond
	// Clocks: one, within a minute of the true time (entries never wait),
	// or within 6 minutes each way, so that the entries of a fast node
	// wait on a slow one for up to 2 minutes past group.MaxSkew's 10.
	c.Skew = []time.Duration{0, 0, time.Minute, 6 * time.Minute}[r.IntN(4)]
	c.Check = true
	return c
}

// Violation is an invariant a run broke.
type Violation struct {
	Seed uint64        `json:"seed"`
	At   time.Duration `json:"at"` // simulated time
	What string        `json:"what"`
}

func (v Violation) String() string { return fmt.Sprintf("seed %d at %v: %s", v.Seed, v.At, v.What) }

// maxViolations bounds what one run records: the first is what matters.
const maxViolations = 8

func (s *Sim) violate(format string, args ...any) {
	if len(s.violations) < maxViolations {
		s.violations = append(s.violations, Violation{Seed: s.cfg.Seed, At: s.now, What: fmt.Sprintf(format, args...)})
	}
}

// checkNode checks node i's invariants after an event reached it: each
// group's core holds its own (topic.State.Check: views within their bounds,
// without duplicates or itself, disjoint; the broadcast's peers are
// neighbours); and no member's store ever holds fewer posts than it did (a
// store survives crashes and restarts: nothing stored is lost).
func (s *Sim) checkNode(i int) {
	n := s.nodes[i]
	for k, m := range n.in {
		if err := m.core.Check(); err != nil {
			s.violate("node %d group %d: %v", i, n.groups[k], err)
		}
		held := m.store.len()
		if held < m.held {
			s.violate("node %d group %d: holds %d posts, held %d", i, n.groups[k], held, m.held)
		}
		m.held = held
	}
}

// FaultReport sums a run of seeds.
type FaultReport struct {
	Seeds      int           `json:"seeds"`
	From       uint64        `json:"from"`
	Nodes      int           `json:"nodes"`
	Events     int64         `json:"events"`
	Future     int64         `json:"refused_future"` // copies refused as from the future (Config.Skew)
	Violations []Violation   `json:"violations"`
	Took       time.Duration `json:"took_ns"`
}

// RunFaults runs seeds from through from+seeds-1 with FaultConfig, each
// checked after every event and, at its end, for delivery to every live
// member; a panic is a violation of its seed. now is the wall clock, for
// the report's time only.
func RunFaults(nodes, posts, seeds int, from uint64, now func() time.Time) FaultReport {
	rep := FaultReport{Seeds: seeds, From: from, Nodes: nodes, Violations: []Violation{}}
	start := now()
	for k := range uint64(seeds) {
		rep.Violations = append(rep.Violations, runChecked(FaultConfig(nodes, posts, from+k), &rep)...)
	}
	rep.Took = now().Sub(start)
	return rep
}

func runChecked(c Config, rep *FaultReport) (out []Violation) {
	defer func() {
		if r := recover(); r != nil {
			out = append(out, Violation{Seed: c.Seed, What: fmt.Sprintf("panic: %v", r)})
		}
	}()
	s := New(c)
	r := s.Run()
	rep.Events += s.events
	rep.Future += int64(r.Future)
	out = s.violations
	if r.Delivery != 1 {
		out = append(out, Violation{Seed: c.Seed, At: s.now, What: fmt.Sprintf("delivery %v at the end: %d posts some live member holds did not reach every live member", r.Delivery, r.Lost)})
	}
	return out
}
