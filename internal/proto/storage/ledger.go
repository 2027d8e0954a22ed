package storage

import (
	"errors"
	"fmt"
)

// Refusals of a request to store, each a typed error.
var (
	ErrNoCredit = errors.New("no credit: the peer has stored more here than it has earned")
	ErrOverCap  = errors.New("the writer's storage cap is reached")
	ErrFull     = errors.New("this node's storage quota is reached")
	ErrBad      = errors.New("the peer failed its audits")
)

// Config is what an operator sets.
type Config struct {
	Quota       int64   `json:"quota"`        // bytes this node holds for others in all; 0: no limit
	WriterCap   int64   `json:"writer_cap"`   // bytes held for any one writer key (a manifest's author); 0: no limit
	Free        int64   `json:"free"`         // bytes any peer may store here before it has earned credit
	Ratio       float64 `json:"ratio"`        // bytes a peer may store per byte it verifiably holds for this node
	FailLimit   int     `json:"fail_limit"`   // failed audits (net of passes since) that make a peer bad
	AuditEvery  int64   `json:"audit_every"`  // mean seconds between two audits this node runs
	RepairEvery int64   `json:"repair_every"` // seconds between two checks of the files this node holds shards of
	RepairSlack float64 `json:"repair_slack"` // the fraction of a stripe's m parity shards that may be missing before it is repaired
}

// DefaultConfig: a gigabyte free for every peer (enough to join and try a
// group, not enough to use a node as free storage), one byte held per byte
// stored (reciprocity without interest), no quota or writer cap until the
// operator sets one, three failed audits make a peer bad, an audit a
// minute, a repair check a minute, and a repair once more than half of a
// stripe's parity is missing (a threshold, as Storj repairs: a holder that
// is offline for a while costs no transfer; `hearsay sim files` measures
// what eager repair would cost).
func DefaultConfig() Config {
	return Config{Free: 1 << 30, Ratio: 1, FailLimit: 3, AuditEvery: 60, RepairEvery: 60, RepairSlack: 0.5}
}

// NeedsRepair reports whether a stripe of k+m shards of which live sit on
// distinct live holders is to be repaired: when more than slack·m of its
// shards are missing (slack 0: any one).
func NeedsRepair(live, k, m int, slack float64) bool {
	return live < k+m-int(slack*float64(m))
}

// Account is what the ledger knows of one peer.
type Account struct {
	HeldFor      int64 `json:"held_for"`      // bytes this node holds for the peer
	HeldBy       int64 `json:"held_by"`       // bytes the peer holds for this node
	AuditsPassed int   `json:"audits_passed"` // audits of the peer that it passed
	AuditsFailed int   `json:"audits_failed"` // ... failed or did not answer
	Strikes      int   `json:"strikes"`       // failures not yet made good by passes
}

// Ledger is a node's book of accounts with its peers and of what it holds
// per writer. The node persists it; it is not safe for concurrent use.
type Ledger struct {
	Config   Config
	Accounts map[string]*Account `json:"accounts"` // by peer id; bounded by the peers that stored or hold
	Writers  map[string]int64    `json:"writers"`  // bytes held per writer key (hex)
	Total    int64               `json:"total"`    // bytes held for others in all
}

// NewLedger makes an empty ledger.
func NewLedger(c Config) *Ledger {
	return &Ledger{Config: c, Accounts: map[string]*Account{}, Writers: map[string]int64{}}
}

func (l *Ledger) account(p string) *Account {
	a := l.Accounts[p]
	if a == nil {
		a = &Account{}
		l.Accounts[p] = a
	}
	return a
}

// Get returns the account of p (zero if none).
func (l *Ledger) Get(p string) Account {
	if a := l.Accounts[p]; a != nil {
		return *a
	}
	return Account{}
}

// Credit is how many bytes p may have stored here: the free allowance plus
// Ratio times what it holds for this node; nothing for a bad peer.
func (l *Ledger) Credit(p string) int64 {
	a := l.Get(p)
	if l.Bad(p) {
		return 0
	}
	return l.Config.Free + int64(l.Config.Ratio*float64(a.HeldBy))
}

// Bad reports whether p failed too many audits to be trusted with shards.
func (l *Ledger) Bad(p string) bool {
	return l.Config.FailLimit > 0 && l.Get(p).Strikes >= l.Config.FailLimit
}

// Accept decides whether to hold size more bytes for peer p, written by
// writer; it books them if so. Nothing is booked on a refusal.
func (l *Ledger) Accept(p, writer string, size int64) error {
	a := l.Get(p)
	switch {
	case l.Bad(p):
		return ErrBad
	case l.Config.Quota > 0 && l.Total+size > l.Config.Quota:
		return fmt.Errorf("%w (%d of %d bytes used)", ErrFull, l.Total, l.Config.Quota)
	case l.Config.WriterCap > 0 && l.Writers[writer]+size > l.Config.WriterCap:
		return fmt.Errorf("%w (%d of %d bytes for this writer)", ErrOverCap, l.Writers[writer], l.Config.WriterCap)
	case a.HeldFor+size > l.Credit(p):
		return fmt.Errorf("%w (it has %d bytes here, credit %d)", ErrNoCredit, a.HeldFor, l.Credit(p))
	}
	l.account(p).HeldFor += size
	l.Writers[writer] += size
	l.Total += size
	return nil
}

// Dropped books that this node no longer holds size bytes for p by writer.
func (l *Ledger) Dropped(p, writer string, size int64) {
	a := l.account(p)
	a.HeldFor = max(0, a.HeldFor-size)
	l.Writers[writer] = max(0, l.Writers[writer]-size)
	if l.Writers[writer] == 0 {
		delete(l.Writers, writer)
	}
	l.Total = max(0, l.Total-size)
}

// Placed books that p holds size more bytes for this node (negative: fewer).
func (l *Ledger) Placed(p string, size int64) {
	a := l.account(p)
	a.HeldBy = max(0, a.HeldBy+size)
}

// Audited books an audit of p: a pass makes good one strike, a failure
// (a wrong or missing answer) adds one, and costs the credit of what the
// peer claimed to hold, since it may not hold it.
func (l *Ledger) Audited(p string, passed bool, size int64) {
	a := l.account(p)
	if passed {
		a.AuditsPassed++
		a.Strikes = max(0, a.Strikes-1)
		return
	}
	a.AuditsFailed++
	a.Strikes++
	a.HeldBy = max(0, a.HeldBy-size)
}
