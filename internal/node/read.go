package node

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/view"
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
	Members []MemberInfo       `json:"members"`
	// Hidden are the authors every entry of whom the admins hide.
	Hidden []HiddenAuthorInfo `json:"hidden_authors"`
	// Left is set once this node left the group: it keeps but no longer
	// replicates the entries.
	Left bool `json:"left"`
	// Caps are this node's operator's caps on the group; Paused is set
	// while the group is paused here for reaching one.
	Caps   CapsInfo   `json:"caps"`
	Paused *PauseInfo `json:"paused"`
}

// MemberInfo is a current member of a group.
type MemberInfo struct {
	Author string `json:"author"`
	Admin  bool   `json:"admin"`
}

// EquivocationInfo names an author and two of its entries with one seq,
// and whether the admins hide the author.
type EquivocationInfo struct {
	Author string `json:"author"`
	A      string `json:"a"`
	B      string `json:"b"`
	Hidden bool   `json:"hidden"`
}

// HiddenAuthorInfo is an author the admins hide: who did, by which entry.
type HiddenAuthorInfo struct {
	Author string `json:"author"`
	By     string `json:"by"`
	Entry  string `json:"entry"`
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
	v, err := n.View(g.ID)
	if err != nil {
		return nil, err
	}
	info := &GroupInfo{ID: g.ID.String(), Name: g.Name, Owner: g.Owner.String(), Write: g.Write, Read: g.Read,
		Quota: g.Quota, Created: g.Created, Entries: count, Digest: hex.EncodeToString(digest[:]),
		Equivs: []EquivocationInfo{}, Members: []MemberInfo{}, Hidden: []HiddenAuthorInfo{}}
	for _, m := range v.Members().Members() {
		info.Members = append(info.Members, MemberInfo{Author: m.Author.String(), Admin: m.Admin})
	}
	for _, h := range v.HiddenAuthors() {
		info.Hidden = append(info.Hidden, HiddenAuthorInfo{Author: h.Author.String(), By: h.By.String(), Entry: h.At.ID.String()})
	}
	if info.Left, err = n.Store.Left(g.ID); err != nil {
		return nil, err
	}
	if err := n.capsInfo(info, g.ID); err != nil {
		return nil, err
	}
	for _, e := range eqs {
		info.Equivs = append(info.Equivs, EquivocationInfo{Author: e.Author.String(), A: e.A.String(), B: e.B.String(), Hidden: v.AuthorHidden(e.Author)})
	}
	return info, nil
}

// timeFormat is how entries' times are written in JSON: UTC, milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z"

// LogEntry is one entry as `log --json` prints it.
type LogEntry struct {
	ID     string `json:"id"`
	Group  string `json:"group"`
	Author string `json:"author"`
	// AuthorName is the author's petname here, else its display name in
	// the group; empty when it has neither.
	AuthorName string        `json:"author_name,omitempty"`
	Seq        uint64        `json:"seq"`
	HLC        hlc.Timestamp `json:"hlc"`
	Time       string        `json:"time"`
	Kind       string        `json:"kind"`
	Subject    string        `json:"subject"`
	Text       string        `json:"text"`
	ReplyTo    string        `json:"reply_to"`
	// Summary describes an entry that is not a post, for people.
	Summary string `json:"summary,omitempty"`
	// Status is empty for a visible entry, else retracted, hidden or invalid.
	Status view.Status `json:"status,omitempty"`
}

// Log returns the newest limit entries of a group in log order, all of them
// when limit <= 0. Retracted, hidden and invalid entries are left out unless
// all is set, and then carry their status.
func (n *Node) Log(gid entry.ID, limit int, all bool) ([]LogEntry, error) {
	v, err := n.View(gid)
	if err != nil {
		return nil, err
	}
	ks := &groupKeys{}
	if v.G.Read == group.ReadMembers {
		if ks, err = n.keys(gid); err != nil {
			return nil, err
		}
	}
	names, err := n.NamesOf(v)
	if err != nil {
		return nil, err
	}
	var out []LogEntry
	var derr error
	err = n.Store.LogBackward(gid, func(e *entry.Signed) bool {
		e = ks.open(e)
		st := v.StatusOf(e.Author, view.PosOf(e))
		if st != view.Visible && !all {
			return true
		}
		l, err := logEntry(e)
		if derr = err; err != nil {
			return false
		}
		l.Status, l.AuthorName = st, names.Of(e.Author)
		out = append(out, l)
		return limit <= 0 || len(out) < limit
	})
	if err = errors.Join(err, derr); err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out, nil
}

// logEntry renders an entry; stored entries passed CheckBody, so an error
// here means the store is damaged.
func logEntry(e *entry.Signed) (LogEntry, error) {
	l := LogEntry{ID: e.ID.String(), Group: e.GroupID().String(), Author: e.Author.String(), Seq: e.Seq,
		HLC: e.HLC, Time: e.HLC.Time().Format(timeFormat), Kind: e.Kind}
	var err error
	switch e.Kind {
	case entry.KindGenesis:
		l.Summary = "created the group"
	case group.KindPost:
		var p group.Post
		p, err = group.DecodePost(e)
		l.Subject, l.Text = p.Subject, p.Text
		if r := group.ReplyTo(e); !r.IsZero() {
			l.ReplyTo = r.String()
		}
	case group.KindMember:
		var m group.Member
		if m, err = group.DecodeMember(e); err == nil {
			verb := "removed member"
			if m.Op == group.OpAdd && m.Admin {
				verb = "added admin"
			} else if m.Op == group.OpAdd {
				verb = "added member"
			}
			// Decoded, the author is 32 bytes: the conversion cannot panic.
			l.Summary = verb + " " + entry.Author(m.Author).Short()
		}
	case group.KindHideAuthor:
		var h group.HideAuthor
		if h, err = group.DecodeHideAuthor(e); err == nil {
			l.Summary = map[string]string{group.OpHide: "hid author ", group.OpUnhide: "unhid author "}[h.Op] + entry.Author(h.Author).Short()
		}
	case group.KindSet:
		var o group.SetOp
		o, err = group.DecodeSetOp(e)
		l.Summary = fmt.Sprintf("set %q: %s %q", o.Set, o.Op, o.Element)
	case group.KindDir:
		var o group.DirOp
		o, err = group.DecodeDirOp(e)
		l.Summary = fmt.Sprintf("dir %s %s", o.Op, o.Path)
	case group.KindProfile:
		var p group.Profile
		p, err = group.DecodeProfile(e)
		l.Summary = fmt.Sprintf("display name %q", p.Name)
	case group.KindSealed:
		l.Summary = "sealed (this node holds no key for it)"
	case group.KindKey:
		var ks *group.KeyShares
		ks, err = group.DecodeKeyShares(e)
		if err == nil {
			l.Summary = fmt.Sprintf("shared a group key with %d member%s", len(ks.Shares), map[bool]string{true: "s"}[len(ks.Shares) != 1])
		}
	case group.KindRetract, group.KindHide:
		if len(e.Refs) == 0 {
			// Admission refuses one without its ref: only a damaged
			// store holds it.
			return l, fmt.Errorf("%w: a %s entry without a ref", entry.ErrMalformed, e.Kind)
		}
		l.Summary = fmt.Sprintf("%s %s", map[string]string{group.KindRetract: "retracted", group.KindHide: "hid"}[e.Kind], e.Refs[0].Short())
	default:
		l.Summary = fmt.Sprintf("a %s entry", e.Kind)
	}
	return l, err
}

// ThreadPost is a post and its replies as `thread --json` and the API show
// them: a withdrawn post keeps its place (its replies stay readable) but
// not its content, unless all is set.
type ThreadPost struct {
	ID         string        `json:"id"`
	Author     string        `json:"author"`
	AuthorName string        `json:"author_name,omitempty"` // as LogEntry's
	HLC        uint64        `json:"hlc"`
	Subject    string        `json:"subject,omitempty"`
	Text       string        `json:"text"`
	Status     view.Status   `json:"status,omitempty"`
	Replies    []*ThreadPost `json:"replies"`
}

// Thread turns a thread of the views into ThreadPosts, naming authors
// after names (nil: none).
func Thread(n *view.Node, names *Names, all bool) *ThreadPost {
	t := &ThreadPost{ID: n.Entry.ID.String(), Author: n.Entry.Author.String(), AuthorName: names.Of(n.Entry.Author),
		HLC: uint64(n.Entry.HLC), Status: n.Status, Replies: []*ThreadPost{}}
	if n.Status == view.Visible || all {
		t.Subject, t.Text = n.Post.Subject, n.Post.Text
	}
	for _, ch := range n.Children {
		t.Replies = append(t.Replies, Thread(ch, names, all))
	}
	return t
}

// PathVersion is a version of a directory path as `dir --json` and the API
// show it; Value (UTF-8) or ValueBase64 (other bytes) carries the value
// when it is asked for.
type PathVersion struct {
	Path        string      `json:"path"`
	Op          string      `json:"op"`
	Author      string      `json:"author"`
	HLC         uint64      `json:"hlc"`
	ID          string      `json:"id"`
	Status      view.Status `json:"status,omitempty"`
	Value       *string     `json:"value,omitempty"`
	ValueBase64 *string     `json:"value_base64,omitempty"`
	File        *FileRef    `json:"file,omitempty"` // a large file's manifest, instead of a value
}

// FileRef is what a directory version says of a large file.
type FileRef struct {
	Size    uint64 `json:"size"`
	K       int    `json:"k"`
	M       int    `json:"m"`
	Content string `json:"content"` // the content hash, hex
	Sealed  bool   `json:"sealed"`
}

// WithOp sets the value, or for a large file its manifest.
func (p PathVersion) WithOp(op group.DirOp) PathVersion {
	if op.File == nil {
		return p.WithValue(op.Value)
	}
	pr := op.File.Params()
	p.File = &FileRef{Size: op.File.Size, K: pr.K, M: pr.M, Content: op.File.ContentID().String(), Sealed: pr.Sealed}
	return p
}

// Version turns a version of the views into a PathVersion.
func Version(v view.Version) PathVersion {
	return PathVersion{Path: v.Path, Op: v.Op, Author: v.Author.String(), HLC: uint64(v.At.HLC), ID: v.At.ID.String(), Status: v.Status}
}

// Versions turns versions of the views into PathVersions.
func Versions(vs []view.Version) []PathVersion {
	out := make([]PathVersion, 0, len(vs))
	for _, v := range vs {
		out = append(out, Version(v))
	}
	return out
}

// WithValue sets the value: as text when it is UTF-8, else as base64.
func (p PathVersion) WithValue(value []byte) PathVersion {
	if utf8.Valid(value) {
		text := string(value)
		p.Value = &text
	} else {
		b := base64.StdEncoding.EncodeToString(value)
		p.ValueBase64 = &b
	}
	return p
}
