package sim

import (
	"slices"
	"time"

	"hearsay/internal/proto/score"
)

// AttackResult is what an attacked run measured. Delivery and the
// latencies of Result are then the honest posts' at the honest nodes.
type AttackResult struct {
	Plan string `json:"plan"`
	// Attackers counts the attacking identities (a sybil's each count).
	Attackers int `json:"attackers"`
	// Quota is the entries per author an honest node stores; StoredMax the
	// most one honest node stores of one attacking identity (never above
	// Quota), StoredPerAttackerMax the most of all identities of one
	// attacker (a sybil's add up), StoredTotal the sum over honest nodes.
	Quota                int `json:"quota"`
	StoredMax            int `json:"stored_max"`
	StoredPerAttackerMax int `json:"stored_per_attacker_max"`
	StoredTotal          int `json:"stored_total"`
	// Refused counts attackers' entries honest nodes refused (pushes and
	// entries of sessions), Future those from the future, which wait.
	Refused int `json:"refused"`
	Future  int `json:"refused_future"`
	// Charges count the score's units charged, by part, HonestCharges
	// those of honest peers (wrongly: a graft or its answer lost, say);
	// Bans the bans honest nodes decided, HonestBanned those of honest
	// peers (wrongly).
	Charges       map[string]int `json:"charges"`
	HonestCharges map[string]int `json:"honest_charges,omitempty"`
	Bans          int            `json:"bans"`
	HonestBanned  int            `json:"honest_banned"`
	// CutOff counts the identities cut off: out of every honest active
	// view from some time until the attack's end (a sybil identity's:
	// until the next replaces it), checked each second; CutOffP50/P99/Max
	// are the seconds from the attack's start (the identity's) until
	// then. NotCutOff is the rest: in an honest view at the end.
	CutOff    int     `json:"cut_off"`
	NotCutOff int     `json:"not_cut_off"`
	CutOffP50 float64 `json:"cut_off_s_p50"`
	CutOffP99 float64 `json:"cut_off_s_p99"`
	CutOffMax float64 `json:"cut_off_s_max"`
	// ProofHolders is, for equivocation, the fraction of (honest live
	// node, equivocator) pairs where the node holds both twins of one of
	// the equivocator's sequence numbers.
	ProofHolders float64 `json:"proof_holders,omitempty"`
	// VictimDelivery is the fraction of honest posts the eclipse's or the
	// exhaustion's victim holds, and VictimLatencyP50/P99 how long they
	// took to reach it (ms).
	VictimDelivery   float64 `json:"victim_delivery"`
	VictimLatencyP50 float64 `json:"victim_latency_ms_p50"`
	VictimLatencyP99 float64 `json:"victim_latency_ms_p99"`
	// SessionsRefused counts the attackers' sessions refused for their
	// bounds, HonestSessionsRefused honest ones; PeakOpen the most
	// sessions one node held open.
	SessionsRefused       int `json:"sessions_refused,omitempty"`
	HonestSessionsRefused int `json:"honest_sessions_refused"`
	PeakOpen              int `json:"peak_open_sessions,omitempty"`
}

// checkViews notes which attackers are in some honest active view now,
// each second of the attack and at its end: an attacker that stopped
// attacking may be taken back, as an honest peer would.
func (a *attack) checkViews(s *Sim) {
	in := map[int]bool{}
	for i, n := range s.nodes {
		if n.down || a.is(i) {
			continue
		}
		for _, m := range n.in {
			for _, l := range m.links {
				if a.is(l.peer) {
					in[l.peer] = true
				}
			}
		}
	}
	for j, bad := range a.attacker {
		if !bad || s.nodes[j].down {
			continue // a sybil's old identity keeps what it had
		}
		if in[j] {
			a.lastIn[j] = s.now
		}
		a.inView[j] = in[j]
	}
	if s.now < a.until {
		s.at(min(time.Second, a.until-s.now), eventSpec{to: -1, what: viewCheck{}})
	}
}

func (a *attack) result(s *Sim) *AttackResult {
	r := &AttackResult{Plan: string(a.plan), Quota: a.quota, Refused: a.c.refused, Future: a.c.future, Bans: a.c.bans,
		HonestBanned: a.c.honestBans, SessionsRefused: a.c.sessionsRefused,
		HonestSessionsRefused: a.c.honestRefs, PeakOpen: a.c.peakOpen, Charges: map[string]int{}}
	for p, n := range a.c.charges {
		if n > 0 {
			r.Charges[score.Part(p).String()] = n
		}
		if h := a.c.honestCharges[p]; h > 0 {
			if r.HonestCharges == nil {
				r.HonestCharges = map[string]int{}
			}
			r.HonestCharges[score.Part(p).String()] = h
		}
	}
	perRoot := map[[2]int]int{}
	for k, n := range a.used {
		r.StoredMax = max(r.StoredMax, n)
		r.StoredTotal += n
		perRoot[[2]int{k[0], a.root(k[1])}] += n
	}
	for _, n := range perRoot {
		r.StoredPerAttackerMax = max(r.StoredPerAttackerMax, n)
	}
	var cuts []time.Duration
	for j, bad := range a.attacker {
		if !bad {
			continue
		}
		r.Attackers++
		if a.inView[j] {
			r.NotCutOff++
			continue
		}
		born := a.from
		if at, ok := a.born[j]; ok {
			born = at
		}
		cut := time.Duration(0)
		if last, ok := a.lastIn[j]; ok {
			cut = last + time.Second - born
		}
		cuts = append(cuts, cut)
	}
	slices.Sort(cuts)
	if r.CutOff = len(cuts); len(cuts) > 0 {
		r.CutOffP50, r.CutOffP99, r.CutOffMax = cuts[len(cuts)/2].Seconds(), cuts[len(cuts)*99/100].Seconds(), cuts[len(cuts)-1].Seconds()
	}
	if a.plan == PlanEquivocate {
		r.ProofHolders = a.proofHolders(s)
	}
	v := s.nodes[a.victim]
	held, posts := 0, 0
	for k, id := range s.m.order {
		if slices.Contains(v.groups, s.m.groups[k]) {
			posts++
			if v.member(s.m.groups[k]).store.has(id) {
				held++
			}
		}
	}
	if posts > 0 {
		r.VictimDelivery = float64(held) / float64(posts)
	}
	if l := slices.Sorted(slices.Values(a.victimLatencies)); len(l) > 0 {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		r.VictimLatencyP50, r.VictimLatencyP99 = ms(l[len(l)/2]), ms(l[len(l)*99/100])
	}
	return r
}

// root is the attacker a sybil identity belongs to.
func (a *attack) root(i int) int {
	if r, ok := a.sybilOf[i]; ok {
		return r
	}
	return i
}

// proofHolders is the fraction of (honest live node, equivocator) pairs
// where the node holds both twins of one sequence number (an attacker
// writes twins one after the other).
func (a *attack) proofHolders(s *Sim) float64 {
	pairs, proofs := 0, 0
	for i, n := range s.nodes {
		if n.down || a.is(i) {
			continue
		}
		for j, bad := range a.attacker {
			if !bad || len(a.written[j]) < 2 {
				continue
			}
			pairs++
			held := func(k int) bool {
				for _, m := range n.in {
					if m.store.has(a.written[j][k]) {
						return true
					}
				}
				return false
			}
			for k := 0; k+1 < len(a.written[j]); k++ {
				w := a.written[j]
				if a.entries[w[k]].seq == a.entries[w[k+1]].seq && held(k) && held(k+1) {
					proofs++
					break
				}
			}
		}
	}
	if pairs == 0 {
		return 0
	}
	return float64(proofs) / float64(pairs)
}
