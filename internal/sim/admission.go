package sim

import (
	"slices"
	"time"

	"hearsay/internal/proto/plumtree"
	"hearsay/internal/proto/score"
	"hearsay/internal/proto/topic"
)

// Admission and charges in an attacked run. An honest node admits an entry
// by the node's rules (internal/group, internal/store), in the simulator's
// terms: a bad signature or a malformed frame is refused and Invalid; an
// entry of a non-member is refused and Inadmissible, and so is one over
// its author's quota (Config.Quota entries per author, the run being less
// than a day), but only when its author sends it: an honest relay that
// pushes or serves an entry another node holds over its quota is not
// charged, as the node does not charge it (node.relayedOverQuota); one
// from the future waits and costs nothing; the rest is stored.
//
// NB: the mapping from what a peer did to a score part mirrors the node's
// as it is wired to the score core (internal/node/bans.go, part;
// internal/node/network.go, Admit, act, Violation; docs/security.md says
// what had landed), which lives in node code: Invalid 1 per push and once per
// session (a bad signature ends the session), Inadmissible once per push
// and once per session, Flood per message or session from a peer
// graylisted here, Delivered for the first pusher of an entry stored,
// Served for a session that brought entries to its client. A change to one
// must be made to the other. What a group's core charges itself (broken
// promises, floods of duplicates and of future-dated pushes: topic.Charge)
// names its part in the core, for both (charges.go).

// verdict is admission's answer.
type verdict int

const (
	admitted verdict = iota
	// dropped: an attacker drops another's entries, not to carry them
	// for each other (the pushes to honest nodes are the attack).
	dropped
	refusedFuture
	refusedInvalid
	refusedInadmissible
	// refusedOverQuota: over its author's quota, charged to its author
	// alone.
	refusedOverQuota
)

// judge is node i's admission of entry id in group g by its kind and its
// author's quota; an honest post is admitted here (the skew is s.admit's).
func (a *attack) judge(s *Sim, i, g int, id plumtree.MessageID) verdict {
	e, ok := a.entries[id]
	switch {
	case !ok:
		return admitted
	case a.is(i):
		return dropped
	}
	switch e.kind {
	case badSignature, malformedFrame:
		return refusedInvalid
	case notAllowed:
		return refusedInadmissible
	case fromFuture:
		return refusedFuture
	}
	if s.nodes[i].member(g).store.has(id) {
		return admitted
	}
	if a.used[[2]int{i, e.author}] >= a.quota {
		return refusedOverQuota
	}
	return admitted
}

// admit stores entry id at node i if admission takes it: stored says it
// was new, ok that it is held.
func (a *attack) admit(s *Sim, i, g int, id plumtree.MessageID) (stored, ok bool, v verdict) {
	switch v = a.judge(s, i, g, id); v {
	case dropped:
		return false, false, v
	case refusedFuture:
		s.m.future++
		a.c.future++
		return false, false, v
	case refusedInvalid, refusedInadmissible, refusedOverQuota:
		a.c.refused++
		return false, false, v
	}
	if stored, ok = s.admit(i, g, id); stored && !a.is(i) {
		if e, mine := a.entries[id]; mine {
			a.used[[2]int{i, e.author}]++
		}
	}
	return stored, ok, v
}

// pushed admits a pushed entry at node i, charges its sender, and answers
// the core.
func (a *attack) pushed(s *Sim, i, g int, o topic.Admit) {
	from := nodeIndex(o.From)
	stored, ok, v := a.admit(s, i, g, o.Msg.ID)
	switch v {
	case refusedInvalid:
		a.charge(s, i, from, score.Invalid)
	case refusedInadmissible:
		a.charge(s, i, from, score.Inadmissible)
	case refusedOverQuota:
		if from == a.entries[o.Msg.ID].author {
			a.charge(s, i, from, score.Inadmissible)
		}
	}
	if stored {
		a.credit(s, i, from, score.Delivered)
		a.delivered(s, i, o.Msg.ID, o.Msg.Round+1)
	}
	s.step(i, g, topic.Admitted{From: o.From, Msg: o.Msg, OK: ok, Future: v == refusedFuture})
}

// transfer admits what a sync session moved to node i from node j in
// group g: a bad entry ends the session and is charged; inadmissible ones
// are charged once for the session.
func (a *attack) transfer(s *Sim, i, j, g int, t transfer) {
	src := &s.nodes[j].member(g).store
	inadmissible, brought := false, 0
	for _, id := range t.ids {
		if !src.has(id) {
			continue
		}
		stored, _, v := a.admit(s, i, g, id)
		if v == refusedInvalid {
			a.charge(s, i, j, score.Invalid)
			break
		}
		inadmissible = inadmissible || v == refusedInadmissible || v == refusedOverQuota && a.entries[id].author == j
		if stored {
			brought++
			a.delivered(s, i, id, -1)
		}
	}
	if inadmissible {
		a.charge(s, i, j, score.Inadmissible)
	}
	if brought > 0 && t.toClient {
		a.credit(s, i, j, score.Served)
	}
}

// delivered counts an honest post reaching an honest node, and its
// latency to the victim.
func (a *attack) delivered(s *Sim, i int, id plumtree.MessageID, hops int) {
	if _, mine := a.entries[id]; !mine && !a.is(i) {
		s.m.delivered(id, s.now, s.nodes[i].since, hops)
		if i == a.victim {
			a.victimLatencies = append(a.victimLatencies, s.now-s.m.published[id])
		}
	}
}

// charge counts one unit of part against peer p at node i and acts on the
// verdict as the node does (internal/node/network.go, act): banned, p is
// cut off in i's cores and its connection closed, and i refuses it until
// the ban ends; graylisted, it leaves i's cores for graylistHold; below
// the disconnect threshold, its connection is closed too; below the gossip
// threshold, i's cores demote it (not chosen from a passive view).
func (a *attack) charge(s *Sim, i, p int, part score.Part) {
	t := a.scores[i]
	if t == nil || i == p {
		return
	}
	a.c.charges[part]++
	if !a.is(p) {
		a.c.honestCharges[part]++
	}
	a.charged[[2]int{i, p}] = true
	v := t.Add(score.PeerID(s.nodes[p].id), part, 1, epoch.Add(s.now))
	switch {
	case v.NewBan:
		a.banned[[2]int{i, p}] = v.Until.Sub(epoch)
		a.c.bans++
		if !a.is(p) {
			a.c.honestBans++
		}
		a.cut(s, i, p, v.Until, true)
	case v.Level >= score.Graylisted && v.Level < score.Banned:
		a.cut(s, i, p, epoch.Add(s.now+graylistHold), v.Level >= score.Disconnected)
	case v.Level == score.NoGossip:
		for _, g := range s.nodes[i].groups {
			s.step(i, g, topic.Demote{Peer: s.nodes[p].id})
		}
	}
}

// credit counts a positive part for p at node i.
func (a *attack) credit(s *Sim, i, p int, part score.Part) {
	if t := a.scores[i]; t != nil && i != p {
		t.Add(score.PeerID(s.nodes[p].id), part, 1, epoch.Add(s.now))
	}
}

// cut bans p from node i's cores until until and, if closing, closes
// their connection: p's cores find i gone.
func (a *attack) cut(s *Sim, i, p int, until time.Time, closing bool) {
	for _, g := range s.nodes[i].groups {
		s.step(i, g, topic.Ban{Peer: s.nodes[p].id, Until: until})
	}
	if !closing || s.nodes[p].down {
		return
	}
	for _, g := range s.nodes[p].groups {
		if slices.Contains(s.nodes[i].groups, g) {
			s.step(p, g, topic.PeerDown{Peer: s.nodes[i].id})
		}
	}
}

// level is what node i's score makes of peer p now.
func (a *attack) level(s *Sim, i, p int) score.Level {
	k := [2]int{i, p}
	if a.scores[i] == nil || !a.charged[k] {
		return score.Good
	}
	if a.banned[k] > s.now {
		return score.Banned
	}
	return a.scores[i].Level(score.PeerID(s.nodes[p].id), epoch.Add(s.now))
}

// refused reports whether a connection between i and j is refused: one
// banned the other (the gater refuses both ways).
func (a *attack) refused(s *Sim, i, j int) bool {
	return a != nil && (a.banned[[2]int{i, j}] > s.now || a.banned[[2]int{j, i}] > s.now)
}

// ignores reports whether node i ignores a message from p: p is
// graylisted there, and sending on is a Flood.
func (a *attack) ignores(s *Sim, i, p int) bool {
	if a.level(s, i, p) < score.Graylisted {
		return false
	}
	a.charge(s, i, p, score.Flood)
	return true
}

// session reports whether client i's sync session with server j fails
// before it moves anything: either side graylisted the other (the server
// charges the client a Flood), the server withholds (the session times
// out, which is nobody's fault), or the server's session slots are taken.
func (a *attack) session(s *Sim, i, j int) bool {
	switch {
	case a.level(s, i, j) >= score.Graylisted:
		return true
	case a.level(s, j, i) >= score.Graylisted:
		a.charge(s, j, i, score.Flood)
		return true
	case a.withholds(j):
		return true
	case a.open[j] >= sessionsInAll || a.openFrom[[2]int{j, i}] >= sessionsPerPeer:
		if !a.is(i) {
			a.c.honestRefs++
		}
		return true
	}
	return false
}
