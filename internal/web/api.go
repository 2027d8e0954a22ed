// Package web is the node's HTTP face for people and programs: the REST API
// under /api/v1 (described by the OpenAPI document it serves at
// /api/v1/openapi.json), live updates as Server-Sent Events, and the web
// UI with its one-time login. Every operation of the CLI has a route here;
// the handlers call the same node methods the CLI does.
package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/node"
	"hearsay/internal/strictjson"
	"hearsay/internal/view"
)

// maxJSON bounds a JSON request body: a directory value of the largest
// entry size, base64-encoded, fits.
const maxJSON = 2 * entry.MaxEncoded

// Joiner joins groups over the network; the serving node's Network does.
type Joiner interface {
	Join(ctx context.Context, g entry.ID, peers []string) (node.SyncResult, error)
}

// result is what a JSON handler returns: a status and a body.
type result struct {
	status int
	body   any
}

func ok(body any) (result, error)      { return result{http.StatusOK, body}, nil }
func created(body any) (result, error) { return result{http.StatusCreated, body}, nil }

// written answers a write with the new entry's id.
func written(id entry.ID, err error) (result, error) {
	if err != nil {
		return result{}, err
	}
	return created(IDBody{ID: id.String()})
}

// IDBody names an entry or a group.
type IDBody struct {
	ID string `json:"id"`
}

// CreateGroupBody is the body of POST /api/v1/groups.
type CreateGroupBody struct {
	Name          string `json:"name"`
	Write         string `json:"write,omitempty"`
	Read          string `json:"read,omitempty"`
	MaxBody       uint32 `json:"max_body,omitempty"`
	EntriesPerDay uint32 `json:"entries_per_day,omitempty"`
	BytesPerDay   uint64 `json:"bytes_per_day,omitempty"`
}

// JoinBody is the body of POST /api/v1/groups/{group}/join.
type JoinBody struct {
	Peers []string `json:"peers,omitempty"`
}

// JoinResult answers a join.
type JoinResult struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Received int    `json:"received"` // by the join's sync sessions
	Refused  int    `json:"refused"`
	// Added is what the store gained while the join ran, from its
	// sessions or (a serving node) gossip alongside; Entries what it holds.
	Added   uint64 `json:"added"`
	Entries uint64 `json:"entries"`
}

// LeaveBody is the body of POST /api/v1/groups/{group}/leave.
type LeaveBody struct {
	Purge bool `json:"purge,omitempty"`
}

// PostBody is the body of POST /api/v1/groups/{group}/posts.
type PostBody struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
	ReplyTo string `json:"reply_to,omitempty"`
}

// MemberBody is the body of POST /api/v1/groups/{group}/members.
type MemberBody struct {
	Author string `json:"author"`
	Admin  bool   `json:"admin,omitempty"`
}

// AuthorBody is the body of POST /api/v1/groups/{group}/hidden-authors.
type AuthorBody struct {
	Author string `json:"author"`
}

// ElementBody is the body of POST /api/v1/groups/{group}/sets/{set}.
type ElementBody struct {
	Element string `json:"element"`
}

// ValueBody is the body of PUT /api/v1/groups/{group}/dir/{path}: the
// value as text, or as base64 for bytes that are not UTF-8.
type ValueBody struct {
	Value       *string `json:"value,omitempty"`
	ValueBase64 *string `json:"value_base64,omitempty"`
}

// Element is a member of a set.
type Element struct {
	Element string `json:"element"`
	Author  string `json:"author"`
	HLC     uint64 `json:"hlc"`
	ID      string `json:"id"`
}

// Identity is this node's identity.
type Identity struct {
	Author string `json:"author"`
	PeerID string `json:"peer_id"`
}

// decode reads a JSON body strictly (internal/strictjson), so that what is
// stored is what was sent. A body over maxJSON is a *http.MaxBytesError
// (413).
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxJSON))
	if err == nil {
		err = strictjson.Decode(b, v)
	}
	if err != nil {
		return fmt.Errorf("body: %w", err)
	}
	return nil
}

// groupOf resolves the {group} path parameter: a full id, a unique id
// prefix, or a unique name.
func (s *Server) groupOf(r *http.Request) (*group.Group, error) {
	return s.n.ResolveGroup(r.PathValue("group"))
}

func (s *Server) viewOf(r *http.Request) (*group.Group, *view.View, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.n.View(g.ID)
	return g, v, err
}

func (s *Server) getIdentity(*http.Request) (result, error) {
	p, err := s.n.PeerID()
	if err != nil {
		return result{}, err
	}
	return ok(Identity{Author: s.n.Home.Author.String(), PeerID: p})
}

func (s *Server) getStatus(*http.Request) (result, error) {
	st, err := s.n.Status(s.nw)
	if err != nil {
		return result{}, err
	}
	st.APIURL, st.UIURL = s.cfg.APIURL, ""
	return ok(st)
}

func (s *Server) listBans(*http.Request) (result, error) {
	if s.nw == nil {
		return ok([]node.BanInfo{})
	}
	return ok(s.nw.BanList())
}

func (s *Server) listPeers(*http.Request) (result, error) {
	if s.nw == nil {
		return ok([]node.PeerInfo{})
	}
	peers := s.nw.Peers()
	if peers == nil {
		peers = []node.PeerInfo{}
	}
	return ok(peers)
}

func (s *Server) listGroups(*http.Request) (result, error) {
	gs, err := s.n.Store.Groups()
	if err != nil {
		return result{}, err
	}
	out := []*node.GroupInfo{}
	for _, g := range gs {
		info, err := s.n.GroupInfo(g)
		if err != nil {
			return result{}, err
		}
		out = append(out, info)
	}
	return ok(out)
}

func (s *Server) createGroup(r *http.Request) (result, error) {
	var b CreateGroupBody
	if err := decode(r, &b); err != nil {
		return result{}, err
	}
	g := group.Genesis{Name: b.Name, Write: group.WriteMembers, Read: group.ReadPublic, Quota: group.DefaultQuota}
	if b.Write != "" {
		g.Write = group.WritePolicy(b.Write)
	}
	if b.Read != "" {
		g.Read = group.ReadPolicy(b.Read)
	}
	if b.MaxBody != 0 {
		g.Quota.MaxBody = b.MaxBody
	}
	g.Quota.EntriesPerDay, g.Quota.BytesPerDay = b.EntriesPerDay, b.BytesPerDay
	if err := g.Validate(); err != nil {
		return result{}, err
	}
	return written(s.n.CreateGroup(g))
}

func (s *Server) getGroup(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	info, err := s.n.GroupInfo(g)
	if err != nil {
		return result{}, err
	}
	return ok(info)
}

func (s *Server) joinGroup(r *http.Request) (result, error) {
	g, err := entry.ParseID(r.PathValue("group"))
	if err != nil {
		return result{}, fmt.Errorf("group: %w (a join needs the full id)", err)
	}
	var b JoinBody
	if err := decode(r, &b); err != nil {
		return result{}, err
	}
	if s.join == nil {
		return result{}, fmt.Errorf("%w: the node does not serve a network", errUnreachable)
	}
	before, _ := s.n.Store.Count(g) // 0 for a group not held yet
	res, err := s.join.Join(r.Context(), g, b.Peers)
	if err != nil {
		return result{}, fmt.Errorf("%w: %v", errUnreachable, err)
	}
	grp, err := s.n.Store.Group(g)
	if err != nil {
		return result{}, err
	}
	after, err := s.n.Store.Count(g)
	if err != nil {
		return result{}, err
	}
	return ok(JoinResult{ID: g.String(), Name: grp.Name, Received: res.Received, Refused: res.Refused, Added: after - min(before, after), Entries: after})
}

func (s *Server) leaveGroup(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	var b LeaveBody
	if err := decode(r, &b); err != nil {
		return result{}, err
	}
	if err := s.n.Leave(g.ID, b.Purge); err != nil {
		return result{}, err
	}
	return ok(IDBody{ID: g.ID.String()})
}

func (s *Server) getLog(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	q := r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 0 {
			return result{}, fmt.Errorf("limit %q: want a count, 0 for all", l)
		}
	}
	all, err := boolParam(q.Get("all"))
	if err != nil {
		return result{}, err
	}
	log, err := s.n.Log(g.ID, limit, all)
	if err != nil {
		return result{}, err
	}
	if log == nil {
		log = []node.LogEntry{}
	}
	return ok(log)
}

func boolParam(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%q: want true or false", v)
	}
	return b, nil
}

func (s *Server) createPost(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	var b PostBody
	if err := decode(r, &b); err != nil {
		return result{}, err
	}
	if b.Text == "" {
		return result{}, errors.New("text: a post needs text")
	}
	var parent entry.ID
	if b.ReplyTo != "" {
		if parent, err = s.n.ResolveEntry(g.ID, b.ReplyTo); err != nil {
			return result{}, fmt.Errorf("reply_to: %w", err)
		}
	}
	return written(s.n.Post(g.ID, group.Post{Subject: b.Subject, Text: b.Text}, parent))
}

func (s *Server) listThreads(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	q := r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > node.MaxThreadPage {
			return result{}, fmt.Errorf("limit %q: want 1..%d", l, node.MaxThreadPage)
		}
	}
	page, err := s.n.Threads(g.ID, limit, q.Get("after"))
	if err != nil {
		return result{}, err
	}
	return ok(page)
}

func (s *Server) getThread(r *http.Request) (result, error) {
	g, v, err := s.viewOf(r)
	if err != nil {
		return result{}, err
	}
	all, err := boolParam(r.URL.Query().Get("all"))
	if err != nil {
		return result{}, err
	}
	id, err := s.n.ResolveEntry(g.ID, r.PathValue("entry"))
	if err != nil {
		return result{}, err
	}
	root, err := v.Thread(id)
	if err != nil {
		return result{}, err
	}
	names, err := s.n.NamesOf(v)
	if err != nil {
		return result{}, err
	}
	return ok(node.Thread(root, names, all))
}

func (s *Server) addMember(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	var b MemberBody
	if err := decode(r, &b); err != nil {
		return result{}, err
	}
	a, err := entry.ParseAuthor(b.Author)
	if err != nil {
		return result{}, fmt.Errorf("author: %w", err)
	}
	return written(s.n.SetMember(g.ID, a, true, b.Admin))
}

func (s *Server) removeMember(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	a, err := entry.ParseAuthor(r.PathValue("author"))
	if err != nil {
		return result{}, fmt.Errorf("author: %w", err)
	}
	return written(s.n.SetMember(g.ID, a, false, false))
}

// hideAuthor hides the author the body names, or unhides the one the path
// names.
func (s *Server) hideAuthor(hide bool) func(*http.Request) (result, error) {
	return func(r *http.Request) (result, error) {
		g, err := s.groupOf(r)
		if err != nil {
			return result{}, err
		}
		arg := r.PathValue("author")
		if hide {
			var b AuthorBody
			if err := decode(r, &b); err != nil {
				return result{}, err
			}
			arg = b.Author
		}
		a, err := entry.ParseAuthor(arg)
		if err != nil {
			return result{}, fmt.Errorf("author: %w", err)
		}
		return written(s.n.HideAuthor(g.ID, a, hide))
	}
}

func (s *Server) listSets(r *http.Request) (result, error) {
	_, v, err := s.viewOf(r)
	if err != nil {
		return result{}, err
	}
	names, err := v.SetNames()
	if err != nil {
		return result{}, err
	}
	return ok(append([]string{}, names...))
}

func (s *Server) getSet(r *http.Request) (result, error) {
	_, v, err := s.viewOf(r)
	if err != nil {
		return result{}, err
	}
	els, err := v.Set(r.PathValue("set"))
	if err != nil {
		return result{}, err
	}
	out := []Element{}
	for _, el := range els {
		out = append(out, Element{Element: el.Value, Author: el.Author.String(), HLC: uint64(el.At.HLC), ID: el.At.ID.String()})
	}
	return ok(out)
}

func (s *Server) addElement(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	var b ElementBody
	if err := decode(r, &b); err != nil {
		return result{}, err
	}
	return written(s.n.SetOp(g.ID, r.PathValue("set"), b.Element, true))
}

func (s *Server) removeElement(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	return written(s.n.SetOp(g.ID, r.PathValue("set"), r.PathValue("element"), false))
}

func (s *Server) findPaths(r *http.Request) (result, error) {
	_, v, err := s.viewOf(r)
	if err != nil {
		return result{}, err
	}
	vers, err := v.Find(r.URL.Query().Get("prefix"))
	if err != nil {
		return result{}, err
	}
	return ok(node.Versions(vers))
}

func (s *Server) getPath(r *http.Request) (result, error) {
	_, v, err := s.viewOf(r)
	if err != nil {
		return result{}, err
	}
	ver, op, err := s.n.DirVersion(v, r.PathValue("path"), r.URL.Query().Get("version"))
	if err != nil {
		return result{}, err
	}
	return ok(node.Version(ver).WithOp(op))
}

func (s *Server) pathHistory(r *http.Request) (result, error) {
	_, v, err := s.viewOf(r)
	if err != nil {
		return result{}, err
	}
	vers, err := v.History(r.PathValue("path"))
	if err != nil {
		return result{}, err
	}
	return ok(node.Versions(vers))
}

func (s *Server) putPath(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	var b ValueBody
	if err := decode(r, &b); err != nil {
		return result{}, err
	}
	var value []byte
	switch {
	case (b.Value == nil) == (b.ValueBase64 == nil):
		return result{}, errors.New("body: give exactly one of value and value_base64")
	case b.Value != nil:
		value = []byte(*b.Value)
	default:
		if value, err = base64.StdEncoding.DecodeString(*b.ValueBase64); err != nil {
			return result{}, fmt.Errorf("value_base64: %w", err)
		}
	}
	return written(s.n.DirPut(g.ID, r.PathValue("path"), value))
}

func (s *Server) removePath(r *http.Request) (result, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return result{}, err
	}
	return written(s.n.DirRm(g.ID, r.PathValue("path")))
}

func (s *Server) withdraw(do func(*node.Node, entry.ID, entry.ID) (entry.ID, error)) func(*http.Request) (result, error) {
	return func(r *http.Request) (result, error) {
		g, err := s.groupOf(r)
		if err != nil {
			return result{}, err
		}
		id, err := s.n.ResolveEntry(g.ID, r.PathValue("entry"))
		if err != nil {
			return result{}, err
		}
		return written(do(s.n, g.ID, id))
	}
}

// exportGroup streams the group as an export file (docs/protocol.md §9).
func (s *Server) exportGroup(w http.ResponseWriter, r *http.Request) {
	g, err := s.groupOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.ReplaceAll(g.Name, `"`, "")+".export"))
	w.Header().Set("Trailer", EntriesTrailer)
	// Once the body has started, an error can only cut it short; the
	// trailer, sent only on success, tells a complete export from a cut
	// one (the file's framing shows most cuts, but not one between entries).
	if count, err := s.n.Export(g.ID, w); err == nil {
		w.Header().Set(EntriesTrailer, strconv.Itoa(count))
	}
}

// EntriesTrailer is the trailer of a complete export: how many entries it
// holds.
const EntriesTrailer = "Hearsay-Entries"

// importFile stores the entries of an export file sent as the body. The
// body streams through in chunks of entries, so its size is not bounded.
func (s *Server) importFile(r *http.Request) (result, error) {
	res, err := s.n.Import(r.Body)
	if err != nil {
		return result{}, err
	}
	return ok(res)
}
