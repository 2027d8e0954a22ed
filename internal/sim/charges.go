package sim

import (
	"hearsay/internal/proto/score"
	"hearsay/internal/proto/topic"
)

// charge carries out node i's core's Charge of peer p (topic.Charge). In
// an attacked run the attack's score tables take it and act on it, as the
// node does (admission.go). In any other run every peer is honest: the
// charge is counted, in a score table per node made at its first charge
// and never acted on, to show what the cores' own charges cost honest
// peers under loss, churn and partitions (Result.Charged).
func (s *Sim) charge(i, p int, f topic.Fault) {
	if s.att != nil {
		s.att.charge(s, i, p, f.Part())
		return
	}
	if s.m.scores == nil {
		s.m.scores = map[int]*score.Table{}
	}
	t, ok := s.m.scores[i]
	if !ok {
		t = score.New(score.DefaultParams())
		s.m.scores[i] = t
	}
	at := epoch.Add(s.now)
	t.Add(score.PeerID(s.nodes[p].id), f.Part(), 1, at)
	s.m.charged++
	s.m.chargedMin = min(s.m.chargedMin, t.Standing(score.PeerID(s.nodes[p].id), at).Score)
}
