package node

import "hearsay/internal/proto/storage"

// StorageReport is what `hearsay storage` shows.
type StorageReport struct {
	Limits   StorageLimits               `json:"limits"`
	Held     int64                       `json:"held"`     // bytes of objects on this node's disk
	HeldFor  int64                       `json:"held_for"` // ... of them for other peers
	Accounts map[string]*storage.Account `json:"accounts"` // per peer
	Credit   map[string]int64            `json:"credit"`   // bytes each peer may store here
	Writers  map[string]int64            `json:"writers"`  // bytes held per writer key
	Serving  bool                        `json:"serving"`  // false: the accounts as last saved
}

// StorageReport reports what this node holds and its accounts: live from
// nw when the node serves (nw non-nil), else as last saved in its home.
func (n *Node) StorageReport(nw *Network) (*StorageReport, error) {
	objects, err := n.Objects()
	if err != nil {
		return nil, err
	}
	rep := &StorageReport{Held: objects.Bytes(), Credit: map[string]int64{}}
	var ledger storage.Ledger
	if nw != nil {
		rep.Serving = true
		rep.Limits, ledger = nw.Ledger()
	} else {
		sf, err := ReadStorage(n.Home.Dir)
		if err != nil {
			return nil, err
		}
		rep.Limits = sf.Limits
		ledger = *storage.NewLedger(sf.Limits.Config)
		for p, a := range sf.Accounts {
			ledger.Accounts[p] = a
		}
		self, _ := n.PeerID()
		for _, m := range objects.List() { // what it holds for others, as the node recounts on start
			if m.Owner != self {
				ledger.Total += int64(m.Size)
			}
		}
	}
	rep.Accounts, rep.Writers, rep.HeldFor = ledger.Accounts, ledger.Writers, ledger.Total
	for p := range ledger.Accounts {
		rep.Credit[p] = ledger.Credit(p)
	}
	return rep, nil
}
