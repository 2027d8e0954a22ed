package score

import "time"

// Part names one counter of a peer's score.
type Part int

// The parts, positive first (doc.go maps them to GossipSub's P1–P7).
const (
	// Delivered counts entries the peer was first to bring (P2).
	Delivered Part = iota
	// Served counts reconciliations the peer served that brought entries.
	Served
	// Invalid counts bad signatures, malformed frames and out-of-turn
	// messages (P4): severe, no honest node sends them.
	Invalid
	// Inadmissible counts sessions or batches of pushes that brought valid
	// entries the group's rules refuse (not allowed, over quota, before
	// genesis, too large): moderate, a replica that knows more may send
	// them in good faith.
	Inadmissible
	// Flood counts excess: messages beyond a rate limit, future-dated or
	// duplicate floods, streams it kept sending on while graylisted.
	Flood
	// Promises counts broken IHave promises and unanswered grafts (P7).
	Promises
	// Withheld counts refusals to serve what it announced.
	Withheld
	// NumParts is the number of parts.
	NumParts
)

var partNames = [NumParts]string{"delivered", "served", "invalid", "inadmissible", "flood", "promises", "withheld"}

func (p Part) String() string {
	if p < 0 || p >= NumParts {
		return "part(?)"
	}
	return partNames[p]
}

// Parts lists every part, in order.
func Parts() []Part {
	out := make([]Part, NumParts)
	for i := range out {
		out[i] = Part(i)
	}
	return out
}

// Params are the weights, decays and thresholds. Every threshold is
// negative and GossipThreshold > GraylistThreshold > DisconnectThreshold >
// BanThreshold (Validate).
type Params struct {
	// Weight is what one unit of a part's counter adds to the score:
	// positive for Delivered and Served, negative for the others.
	Weight [NumParts]float64
	// Cap bounds a part's counter (0: unbounded); GossipSub caps P2 so a
	// peer cannot bank deliveries without bound.
	Cap [NumParts]float64
	// HalfLife is how long a part's counter takes to halve.
	HalfLife [NumParts]time.Duration
	// DecayToZero: a counter below it is zero (GossipSub's DecayToZero).
	DecayToZero float64

	// ColocationWeight times the square of the excess of connected peers
	// in one address range (an IPv4 /24, an IPv6 /48) over
	// ColocationThreshold is added to each of them (P6); loopback, private
	// and link-local addresses are exempt (Range). The term is at least
	// ColocationFloor, above GossipThreshold: a hosting provider or a
	// campus puts honest peers in one range, so colocation alone crosses
	// no threshold; it brings the thresholds nearer, so that colocated
	// peers are cut off after fewer faults.
	ColocationWeight    float64
	ColocationThreshold int
	ColocationFloor     float64

	// GossipThreshold: below it nothing is pushed to the peer, lazily or
	// eagerly, and it is not chosen from the passive view.
	GossipThreshold float64
	// GraylistThreshold: below it what the peer sends is ignored, it
	// leaves every active view and anti-entropy neither chooses it nor
	// serves it.
	GraylistThreshold float64
	// DisconnectThreshold: below it the peer's connections are closed.
	DisconnectThreshold float64
	// BanThreshold: penalties at or below it ban the peer for BanFor, doubled
	// for each ban it had before, at most MaxBanFor; the counters restart.
	BanThreshold float64
	BanFor       time.Duration
	MaxBanFor    time.Duration
	// ForgetAfter is how long after its last ban ended a peer's count of
	// bans is kept.
	ForgetAfter time.Duration

	// MaxPeers bounds the peers remembered.
	MaxPeers int
}

// DefaultParams are the node's. The penalties keep the calibration of the
// ban policy they replace (docs/security.md): a severe fault weighs 1 and
// a moderate one 0.25, both halving every 10 minutes, and penalties of
// 2.9 ban — three bad signatures within 29 s (three at once make 3, and
// the threshold leaves room for their decay meanwhile: at 3 exactly, three
// 100 ms apart fell short, 2.9997), or twelve charges of 0.25 within
// minutes. One severe fault stops pushes to the peer; moderate ones
// graylist it from the ninth, and each stream it keeps sending on after
// that is a Flood. Positives are capped at 0.5 each and halve every hour.
func DefaultParams() Params {
	const moderate = -0.25
	p := Params{
		Weight:              [NumParts]float64{0.01, 0.05, -1, moderate, moderate, moderate, moderate},
		Cap:                 [NumParts]float64{50, 10, 0, 0, 0, 0, 0},
		DecayToZero:         0.01,
		ColocationWeight:    -0.25,
		ColocationThreshold: 4,
		ColocationFloor:     -0.4,
		GossipThreshold:     -0.5,
		GraylistThreshold:   -2,
		DisconnectThreshold: -2.5,
		BanThreshold:        -2.9,
		BanFor:              10 * time.Minute,
		MaxBanFor:           7 * 24 * time.Hour,
		ForgetAfter:         7 * 24 * time.Hour,
		MaxPeers:            4096,
	}
	for i := range p.HalfLife {
		p.HalfLife[i] = 10 * time.Minute
	}
	p.HalfLife[Delivered], p.HalfLife[Served] = time.Hour, time.Hour
	return p
}
