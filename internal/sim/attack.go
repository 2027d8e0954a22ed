package sim

import (
	"fmt"
	"slices"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
	"hearsay/internal/proto/score"
	"hearsay/internal/proto/topic"
)

// Attacks, as simulated here (docs/security.md has the figures). A
// fraction Config.Attackers of the initial nodes attack from the first post
// to the last: each runs the same core as everyone (it joins the overlays,
// shuffles, answers pings) and acts per Config.Attack. Every honest node
// keeps one score.Table, the node's score core with its DefaultParams, and
// charges what a peer sent it as the node does (admission.go); a peer the
// table bans is cut off as internal/gossip and the gater cut it off: a
// topic.Ban in each of the node's cores, its connection closed, its dials
// and messages refused.

// Plan names an attack.
type Plan string

// The plans, one per attack of issue 12.
const (
	// PlanFlood: a member pushes its entries far beyond its quota.
	PlanFlood Plan = "flood"
	// PlanForged: entries whose signatures do not verify.
	PlanForged Plan = "forged"
	// PlanInadmissible: validly signed entries of a non-member.
	PlanInadmissible Plan = "inadmissible"
	// PlanEquivocate: a member writes two different entries for each of
	// its sequence numbers; both are valid, and the pair is the proof.
	PlanEquivocate Plan = "equivocate"
	// PlanFuture: entries stamped an hour ahead of every clock.
	PlanFuture Plan = "future"
	// PlanMalformed: oversized and malformed frames.
	PlanMalformed Plan = "malformed"
	// PlanReplay: old entries pushed again, as new.
	PlanReplay Plan = "replay"
	// PlanWithhold: it accepts everything, announces what it holds (as
	// the protocol does), and never forwards nor serves it: no push, no
	// answer to a graft, no session.
	PlanWithhold Plan = "withhold"
	// PlanSybil: each attacker comes back under a fresh identity every
	// sybilEvery and floods under it, as in PlanFlood.
	PlanSybil Plan = "sybil"
	// PlanEclipse: every attacker joins through one victim, again and
	// again, to fill its active view, names only attackers in its
	// shuffles, to fill passive views, and withholds.
	PlanEclipse Plan = "eclipse"
	// PlanQuota: a member writes its whole quota at once.
	PlanQuota Plan = "quota"
	// PlanExhaust: sync sessions opened and never finished.
	PlanExhaust Plan = "exhaust"
)

// Plans lists the plans, in the order docs/security.md gives them.
func Plans() []Plan {
	return []Plan{PlanFlood, PlanForged, PlanInadmissible, PlanEquivocate, PlanFuture, PlanMalformed, PlanReplay,
		PlanWithhold, PlanSybil, PlanEclipse, PlanQuota, PlanExhaust}
}

// ParsePlan checks a plan's name.
func ParsePlan(name string) (Plan, error) {
	for _, p := range Plans() {
		if string(p) == name {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown attack plan %q (want one of %v)", name, Plans())
}

// The attackers' pace and the node's bounds the plans run into.
const (
	// attackEvery spaces an attacker's actions: a push, a session.
	attackEvery = 100 * time.Millisecond
	// sybilEvery is how long a sybil identity lives before the next.
	sybilEvery = 10 * time.Second
	// eclipseEvery spaces the eclipsers' joins through their victim.
	eclipseEvery = time.Second
	// DefaultQuota is the entries per author per day of an attacked run:
	// the group's quota (group.DefaultQuota: 10,000 a day) scaled down to
	// a run of minutes, so that a flood meets it.
	DefaultQuota = 8
	// graylistHold mirrors internal/node: a graylisted peer stays out of
	// the cores that long.
	graylistHold = time.Minute
	// sessionTimeout, sessionsPerPeer and sessionsInAll mirror the node's
	// sync session timeout (node.sessionTimeout, 20 s), the resource
	// manager's inbound sync sessions from one peer (32) and its streams in
	// all (8,192; transport.DefaultLimits): the bounds a peer that opens
	// sessions and never finishes them meets.
	sessionTimeout  = 20 * time.Second
	sessionsPerPeer = 32
	sessionsInAll   = 8192
	// exhaustBurst is how many sessions an exhausting attacker opens at
	// each action, all to one node.
	exhaustBurst = 8
)

// kind is what a simulated entry is, for admission.
type kind uint8

const (
	valid kind = iota
	badSignature
	malformedFrame
	notAllowed // a validly signed entry of a non-member
	fromFuture
)

// authored is an attacker's entry: who wrote it, what it is, its sequence
// number (twins share one).
type authored struct {
	author int
	kind   kind
	seq    int
}

// attack is the run's attack in progress.
type attack struct {
	plan  Plan
	quota int
	// The attack lasts [from, until): the posts.
	from, until time.Duration
	// attacker marks the attacking nodes, by index; sybils are appended.
	attacker []bool
	// entries are the attackers' entries; honest posts are not here.
	entries map[plumtree.MessageID]authored
	// seq is each attacker's next sequence number; written its entries.
	seq     map[int]int
	written map[int][]plumtree.MessageID
	// used is what each honest node stores of each attacker: (node,
	// author) → entries, bounded by quota.
	used map[[2]int]int
	// scores is each honest node's score table (nil for attackers);
	// charged marks the (node, peer) pairs a node ever charged, whose
	// level is worth computing.
	scores  []*score.Table
	charged map[[2]int]bool
	// banned is when a (node, peer) ban ends.
	banned map[[2]int]time.Duration
	// lastIn is the last check that found an attacker in an honest active
	// view; inView says it is still in one.
	lastIn map[int]time.Duration
	inView map[int]bool
	// victim is the eclipse's target and the exhaustion's;
	// victimLatencies are the honest posts' latencies to it.
	victim          int
	victimLatencies []time.Duration
	// open counts each node's inbound sessions held open, and by peer.
	open     map[int]int
	openFrom map[[2]int]int
	// sybilOf is the attacker each sybil identity belongs to.
	sybilOf map[int]int
	// ids are the attackers' ids, for an eclipse's shuffles.
	ids []hyparview.PeerID
	// born is when each sybil identity came up.
	born map[int]time.Duration
	c    attackCounts
}

type attackCounts struct {
	charges, honestCharges      [score.NumParts]int
	refused, future             int
	honestBans, bans            int
	sessionsRefused, honestRefs int
	peakOpen                    int
}

func (a *attack) is(i int) bool { return a != nil && i < len(a.attacker) && a.attacker[i] }

// newAttack picks the attackers: a fraction of the initial nodes, the
// victim among the others.
func newAttack(s *Sim) *attack {
	a := &attack{plan: s.cfg.Attack, quota: s.cfg.Quota, entries: map[plumtree.MessageID]authored{},
		seq: map[int]int{}, written: map[int][]plumtree.MessageID{}, used: map[[2]int]int{},
		charged: map[[2]int]bool{}, banned: map[[2]int]time.Duration{}, lastIn: map[int]time.Duration{},
		inView: map[int]bool{}, open: map[int]int{}, openFrom: map[[2]int]int{}, sybilOf: map[int]int{},
		born: map[int]time.Duration{}}
	if a.quota <= 0 {
		a.quota = DefaultQuota
	}
	a.attacker = make([]bool, len(s.nodes))
	n := int(s.cfg.Attackers * float64(s.cfg.Nodes))
	perm := s.rng.Perm(s.cfg.Nodes)
	for _, i := range perm[:n] {
		a.attacker[i] = true
	}
	a.victim = perm[min(n, len(perm)-1)]
	a.scores = make([]*score.Table, len(s.nodes))
	for i := range s.nodes {
		if !a.attacker[i] {
			a.scores[i] = score.New(score.DefaultParams())
		}
	}
	return a
}

// attackAct is an attacker's next action, scheduled as a timer.
type attackAct struct{}

// viewCheck looks for the attackers in the honest active views.
type viewCheck struct{}

// schedule starts the attackers with the posts and checks the views each
// second until the end.
func (a *attack) schedule(s *Sim, from, to time.Duration) {
	a.from, a.until = from, to
	for i, bad := range a.attacker {
		if !bad {
			continue
		}
		if a.plan == PlanSybil {
			s.at(from+time.Duration(s.rng.Int64N(int64(sybilEvery))), eventSpec{to: i, what: sybil{}})
		}
		for _, g := range s.nodes[i].groups {
			jitter := time.Duration(s.rng.Int64N(int64(attackEvery)))
			s.at(from+jitter, eventSpec{to: i, group: g, what: attackAct{}})
		}
	}
	s.at(from, eventSpec{to: -1, what: viewCheck{}})
}

// act is attacker i's action in group g, per plan; it schedules the next
// while the posts last.
func (a *attack) act(s *Sim, i, g int) {
	every := attackEvery
	switch a.plan {
	case PlanFlood, PlanSybil:
		a.push(s, i, g, a.write(s, i, valid))
	case PlanForged:
		a.push(s, i, g, a.write(s, i, badSignature))
	case PlanMalformed:
		a.push(s, i, g, a.write(s, i, malformedFrame))
	case PlanInadmissible:
		a.push(s, i, g, a.write(s, i, notAllowed))
	case PlanFuture:
		a.push(s, i, g, a.write(s, i, fromFuture))
	case PlanEquivocate:
		if a.seq[i] >= a.quota/2 {
			return // its quota is spent on twins
		}
		first := a.write(s, i, valid)
		a.seq[i]--
		second := a.write(s, i, valid)
		a.push(s, i, g, first)
		a.push(s, i, g, second)
	case PlanQuota:
		for a.seq[i] < a.quota {
			a.push(s, i, g, a.write(s, i, valid))
		}
		return
	case PlanReplay:
		a.replay(s, i, g)
	case PlanWithhold:
		return // withholding is in what it does not send (sends)
	case PlanEclipse:
		if v := s.nodes[a.victim]; !v.down && slices.Contains(v.groups, g) {
			s.step(i, g, topic.Meet{Peer: v.id})
		}
		every = eclipseEvery
	case PlanExhaust:
		a.exhaust(s, i, g)
	}
	if s.now+every < a.until {
		s.at(every, eventSpec{to: i, group: g, what: attackAct{}})
	}
}

// write makes attacker i's next entry, of kind k, and stores it in its own
// stores: anti-entropy with it moves it too.
func (a *attack) write(s *Sim, i int, k kind) plumtree.MessageID {
	var id plumtree.MessageID
	for b := range id {
		id[b] = byte(s.rng.Uint32())
	}
	a.entries[id] = authored{author: i, kind: k, seq: a.seq[i]}
	a.seq[i]++
	a.written[i] = append(a.written[i], id)
	stamp := s.stamp(i)
	if k == fromFuture {
		stamp += time.Hour
	}
	s.stamps[id] = stamp
	s.posts.add(id, stamp)
	for _, m := range s.nodes[i].in {
		m.store.put(id)
	}
	return id
}

// push sends an entry to each of attacker i's active neighbours in g, as
// a first hop: honest nodes admit it or refuse it, and charge i.
func (a *attack) push(s *Sim, i, g int, id plumtree.MessageID) {
	for _, p := range s.nodes[i].member(g).core.Active() {
		to := nodeIndex(p)
		if s.reachable(i, g, to) {
			s.send(i, to, g, plumtree.Gossip{ID: id, Payload: payload}, len(payload))
		} else {
			s.step(i, g, topic.PeerDown{Peer: p})
		}
	}
}

// replay pushes again, as new, the oldest posts attacker i holds, one per
// action, round robin.
func (a *attack) replay(s *Sim, i, g int) {
	held := &s.nodes[i].member(g).store
	var old []plumtree.MessageID
	for k, id := range s.m.order {
		if s.m.groups[k] == g && held.has(id) {
			old = append(old, id)
		}
	}
	if len(old) == 0 {
		return
	}
	a.push(s, i, g, old[a.seq[i]%len(old)])
	a.seq[i]++
}

// exhaust opens exhaustBurst sessions to the victim (or, if it is not in
// g, a random member), which it never finishes: each holds a slot until
// the node's session timeout, if a slot is free.
func (a *attack) exhaust(s *Sim, i, g int) {
	to := a.victim
	if !slices.Contains(s.nodes[to].groups, g) {
		c, ok := s.liveOther(i, g)
		if !ok {
			return
		}
		to = c
	}
	for range exhaustBurst {
		if !a.openSession(to, i) {
			a.c.sessionsRefused++
			continue
		}
		s.at(sessionTimeout, eventSpec{to: -1, what: sessionEnd{server: to, client: i}})
	}
}

// sessionEnd frees a session slot the server timed out.
type sessionEnd struct{ server, client int }

// openSession takes an inbound session slot at server for client, within
// the bounds; it reports whether one was free.
func (a *attack) openSession(server, client int) bool {
	k := [2]int{server, client}
	if a.open[server] >= sessionsInAll || a.openFrom[k] >= sessionsPerPeer {
		return false
	}
	a.open[server]++
	a.openFrom[k]++
	a.c.peakOpen = max(a.c.peakOpen, a.open[server])
	return true
}

func (a *attack) closeSession(server, client int) {
	a.open[server]--
	a.openFrom[[2]int{server, client}]--
}

// withholds reports whether node i is an attacker that never forwards nor
// serves.
func (a *attack) withholds(i int) bool {
	return a.is(i) && (a.plan == PlanWithhold || a.plan == PlanEclipse)
}

// sends filters what node i sends to node to: an eclipser pushes and
// announces nothing, to stay in the views (a withholder's entries become
// announcements: poison); an honest node sends nothing to a peer it
// graylisted, and pushes nothing to one below the gossip threshold, as
// internal/gossip does.
func (a *attack) sends(s *Sim, i, to int, msg any) bool {
	push := false
	switch msg.(type) {
	case plumtree.Gossip, plumtree.IHave:
		push = true
	}
	if a.withholds(i) {
		return a.plan == PlanWithhold || !push
	}
	l := a.level(s, i, to)
	return l < score.Graylisted && (!push || l < score.NoGossip)
}

// poison is what an attacker's messages say instead, and the payload
// bytes they then carry: a withholder announces each entry it would send
// (a push, an answer to a graft) and sends none, so it promises every
// entry it holds to every neighbour and serves none; an eclipser's
// samples of its views it shuffles name attackers only.
func (a *attack) poison(s *Sim, from int, msg any, payloadBytes int) (any, int) {
	if !a.is(from) {
		return msg, payloadBytes
	}
	if g, ok := msg.(plumtree.Gossip); ok && a.plan == PlanWithhold {
		return plumtree.IHave{Announced: []plumtree.Announcement{{ID: g.ID, Round: g.Round}}}, 0
	}
	return a.poisonShuffle(s, msg), payloadBytes
}

// poisonShuffle has an eclipser's shuffles name attackers only.
func (a *attack) poisonShuffle(s *Sim, msg any) any {
	if a.plan != PlanEclipse {
		return msg
	}
	switch m := msg.(type) {
	case hyparview.Shuffle:
		m.Peers = a.sample(s, len(m.Peers))
		return m
	case hyparview.ShuffleReply:
		m.Peers = a.sample(s, len(m.Peers))
		return m
	}
	return msg
}

// sample draws n attackers' ids.
func (a *attack) sample(s *Sim, n int) []hyparview.PeerID {
	if a.ids == nil {
		for i, bad := range a.attacker {
			if bad {
				a.ids = append(a.ids, s.nodes[i].id)
			}
		}
	}
	out := make([]hyparview.PeerID, n)
	for k := range out {
		out[k] = a.ids[s.rng.IntN(len(a.ids))]
	}
	return out
}

// sybil is the plan's identity change: attacker i goes down, and a fresh
// node in its groups comes up in its place and goes on attacking.
type sybil struct{}

// spawn brings up a fresh identity for attacker i.
func (a *attack) spawn(s *Sim, i int) {
	old := s.nodes[i]
	j := len(s.nodes)
	n := &node{id: nodeID(j), groups: slices.Clone(old.groups)}
	for _, g := range n.groups {
		n.in = append(n.in, &member{store: store{posts: &s.posts}})
		s.groups[g] = append(s.groups[g], j)
	}
	s.nodes = append(s.nodes, n)
	a.attacker = append(a.attacker, true)
	a.scores = append(a.scores, nil)
	root := i
	if r, ok := a.sybilOf[i]; ok {
		root = r
	}
	a.sybilOf[j] = root
	a.born[j] = s.now
	old.down = true
	n.down = true // up brings it up
	s.up(j)
	for _, g := range n.groups {
		s.at(time.Duration(s.rng.Int64N(int64(attackEvery))), eventSpec{to: j, group: g, what: attackAct{}})
	}
	if s.now+sybilEvery < a.until {
		s.at(sybilEvery, eventSpec{to: j, what: sybil{}})
	}
}
