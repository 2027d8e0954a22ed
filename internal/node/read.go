package node

import (
	"encoding/hex"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
)

// GroupInfo describes a group as this replica holds it. It is the JSON of
// `group show --json` and of the API.
type GroupInfo struct {
	ID      string             `json:"id"`
	Name    string             `json:"name"`
	Owner   string             `json:"owner"`
	Write   group.WritePolicy  `json:"write"`
	Read    group.ReadPolicy   `json:"read"`
	Quota   group.Quota        `json:"quota"`
	Created hlc.Timestamp      `json:"created"`
	Entries uint64             `json:"entries"`
	Digest  string             `json:"digest"`
	Equivs  []EquivocationInfo `json:"equivocators"`
}

// EquivocationInfo names an author and two of its entries with one seq.
type EquivocationInfo struct {
	Author string `json:"author"`
	A      string `json:"a"`
	B      string `json:"b"`
}

// GroupInfo gathers what `group show` prints.
func (n *Node) GroupInfo(g *group.Group) (*GroupInfo, error) {
	count, err := n.Store.Count(g.ID)
	if err != nil {
		return nil, err
	}
	digest, err := n.Store.Digest(g.ID)
	if err != nil {
		return nil, err
	}
	eqs, err := n.Store.Equivocations(g.ID)
	if err != nil {
		return nil, err
	}
	info := &GroupInfo{ID: g.ID.String(), Name: g.Name, Owner: g.Owner.String(), Write: g.Write, Read: g.Read,
		Quota: g.Quota, Created: g.Created, Entries: count, Digest: hex.EncodeToString(digest[:]),
		Equivs: []EquivocationInfo{}}
	for _, e := range eqs {
		info.Equivs = append(info.Equivs, EquivocationInfo{Author: e.Author.String(), A: e.A.String(), B: e.B.String()})
	}
	return info, nil
}

// LogEntry is one entry as `log --json` prints it.
type LogEntry struct {
	ID      string        `json:"id"`
	Group   string        `json:"group"`
	Author  string        `json:"author"`
	Seq     uint64        `json:"seq"`
	HLC     hlc.Timestamp `json:"hlc"`
	Time    string        `json:"time"`
	Kind    string        `json:"kind"`
	Subject string        `json:"subject"`
	Text    string        `json:"text"`
	ReplyTo string        `json:"reply_to"`
}

// Log returns the last limit entries of a group in log order; limit <= 0
// means all of them.
func (n *Node) Log(gid entry.ID, limit int) ([]LogEntry, error) {
	var es []*entry.Signed
	var err error
	if limit > 0 {
		es, err = n.Store.Tail(gid, limit)
	} else {
		err = n.Store.Log(gid, func(e *entry.Signed) bool { es = append(es, e); return true })
	}
	if err != nil {
		return nil, err
	}
	out := make([]LogEntry, len(es))
	for i, e := range es {
		out[i] = logEntry(e)
	}
	return out, nil
}

func logEntry(e *entry.Signed) LogEntry {
	l := LogEntry{ID: e.ID.String(), Group: e.GroupID().String(), Author: e.Author.String(), Seq: e.Seq,
		HLC: e.HLC, Time: e.HLC.Time().Format("2006-01-02T15:04:05.000Z"), Kind: e.Kind}
	if e.Kind == group.KindPost {
		// Stored posts passed CheckBody, so the body decodes.
		p, _ := group.DecodePost(e)
		l.Subject, l.Text = p.Subject, p.Text
		if r := group.ReplyTo(e); !r.IsZero() {
			l.ReplyTo = r.String()
		}
	}
	return l
}
