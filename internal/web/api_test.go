package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/store"
)

const token = "test-token"

// serving is a node with a real store on disk and a real libp2p host on
// loopback.
func serving(t *testing.T) (*node.Node, *node.Network) {
	t.Helper()
	h, _, err := home.Init(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(h, store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	nw, err := n.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close(); n.Close() })
	return n, nw
}

// client calls the API of a test server.
type client struct {
	t    *testing.T
	base string
}

type reply struct {
	status int
	ctype  string
	body   []byte
}

func (c client) do(method, path, ctype string, body []byte, auth bool, hdr ...string) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

func (c client) json(method, path, body string) reply {
	c.t.Helper()
	if body == "" {
		return c.do(method, path, "", nil, true)
	}
	return c.do(method, path, "application/json", []byte(body), true)
}

func (r reply) field(t *testing.T, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%s: %s", err, r.body)
	}
	return fmt.Sprint(m[name])
}

// TestEveryOperation walks every operation of the OpenAPI document once
// with valid input and with bad input (wrong types, missing fields,
// unknown ids, no token, cross-site), and checks that each answer's status
// is the one expected and one the document lists for the operation. An
// operation without cases fails the test.
func TestEveryOperation(t *testing.T) {
	n, nw := serving(t)
	other, otherNW := serving(t)
	s := New(n, nw, Config{Token: token})
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := client{t, srv.URL}

	// Fixtures: a group here with a post, a path and a set element; a
	// group on the other node to join.
	gen := group.Genesis{Name: "demo", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota}
	g, err := n.CreateGroup(gen)
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := n.Post(g, group.Post{Text: "first"}, entry.ID{})
	p2, _ := n.Post(g, group.Post{Text: "second"}, entry.ID{})
	a1, _ := n.DirPut(g, "docs/a.txt", []byte("a, first"))
	n.DirPut(g, "docs/a.txt", []byte("a"))
	n.SetOp(g, "tags", "x", true)
	if _, _, err := n.FilePut(g, "media/f.bin", strings.NewReader("a large file, in shards"), 23, node.PutOptions{K: 2, M: 1}); err != nil {
		t.Fatal(err)
	}
	gen.Name = "elsewhere"
	far, err := other.CreateGroup(gen)
	if err != nil {
		t.Fatal(err)
	}
	export := c.do("GET", "/api/v1/groups/demo/export", "", nil, true).body
	peerAddr := otherNW.Addrs()[0]
	author := other.Home.Author.String()
	unknown := strings.Repeat("ab", 32)

	type call struct {
		method, path, ctype, body string
		noAuth                    bool
		hdr                       []string
		want                      int
	}
	j := func(method, path, body string, want int) call {
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		return call{method: method, path: path, ctype: ct, body: body, want: want}
	}
	cases := map[string][]call{
		"getOpenAPI":  {{method: "GET", path: "/api/v1/openapi.json", noAuth: true, want: 200}},
		"getIdentity": {j("GET", "/api/v1/id", "", 200)},
		"getStatus":   {j("GET", "/api/v1/status", "", 200)},
		"listPeers":   {j("GET", "/api/v1/peers", "", 200)},
		"listBans":    {j("GET", "/api/v1/bans", "", 200)},
		"listGroups":  {j("GET", "/api/v1/groups", "", 200)},
		"createGroup": {j("POST", "/api/v1/groups", `{"name":"made","write":"open"}`, 201),
			j("POST", "/api/v1/groups", `{"name":5}`, 400), j("POST", "/api/v1/groups", `{}`, 400),
			j("POST", "/api/v1/groups", `{"name":"x","write":"everyone"}`, 400), j("POST", "/api/v1/groups", `{"name":"x","colour":"red"}`, 400),
			{method: "POST", path: "/api/v1/groups", ctype: "text/plain", body: `{"name":"csrf"}`, want: 403},
			{method: "POST", path: "/api/v1/groups", ctype: "application/json", body: `{"name":"csrf"}`, hdr: []string{"Origin", "https://evil.example"}, want: 403}},
		"getGroup": {j("GET", "/api/v1/groups/demo", "", 200), j("GET", "/api/v1/groups/"+g.String()[:8], "", 200),
			j("GET", "/api/v1/groups/nosuch", "", 404)},
		"joinGroup": {j("POST", "/api/v1/groups/"+far.String()+"/join", `{"peers":["`+peerAddr+`"]}`, 200),
			j("POST", "/api/v1/groups/"+far.String()+"/join", `{"peers":"one"}`, 400), j("POST", "/api/v1/groups/demo/join", `{}`, 400),
			j("POST", "/api/v1/groups/"+unknown+"/join", `{"peers":["`+peerAddr+`"]}`, 503)},
		"leaveGroup": {j("POST", "/api/v1/groups/made/leave", `{}`, 200), j("POST", "/api/v1/groups/made/leave", `{"purge":"yes"}`, 400),
			j("POST", "/api/v1/groups/nosuch/leave", `{}`, 404)},
		"getLog": {j("GET", "/api/v1/groups/demo/log?limit=10&all=true", "", 200), j("GET", "/api/v1/groups/demo/log?limit=ten", "", 400),
			j("GET", "/api/v1/groups/demo/log?all=maybe", "", 400), j("GET", "/api/v1/groups/nosuch/log", "", 404)},
		"createPost": {j("POST", "/api/v1/groups/demo/posts", `{"text":"hi","reply_to":"`+p1.String()+`"}`, 201),
			j("POST", "/api/v1/groups/demo/posts", `{"text":1}`, 400), j("POST", "/api/v1/groups/demo/posts", `{}`, 400),
			j("POST", "/api/v1/groups/demo/posts", `{"text":"hi","reply_to":"`+unknown+`"}`, 404), j("POST", "/api/v1/groups/nosuch/posts", `{"text":"hi"}`, 404)},
		"listThreads": {j("GET", "/api/v1/groups/demo/threads?limit=1", "", 200), j("GET", "/api/v1/groups/demo/threads?limit=0", "", 400),
			j("GET", "/api/v1/groups/demo/threads?after=zz", "", 400), j("GET", "/api/v1/groups/nosuch/threads", "", 404)},
		"listSets": {j("GET", "/api/v1/groups/demo/sets", "", 200), j("GET", "/api/v1/groups/nosuch/sets", "", 404)},
		"getThread": {j("GET", "/api/v1/groups/demo/threads/"+p1.String(), "", 200), j("GET", "/api/v1/groups/demo/threads/"+unknown, "", 404),
			j("GET", "/api/v1/groups/demo/threads/zz", "", 400)},
		"addMember": {j("POST", "/api/v1/groups/demo/members", `{"author":"`+author+`","admin":true}`, 201),
			j("POST", "/api/v1/groups/demo/members", `{"author":"xyz"}`, 400), j("POST", "/api/v1/groups/demo/members", `{"author":7}`, 400),
			j("POST", "/api/v1/groups/nosuch/members", `{"author":"`+author+`"}`, 404)},
		"removeMember": {j("DELETE", "/api/v1/groups/demo/members/"+author, "", 201), j("DELETE", "/api/v1/groups/demo/members/xyz", "", 400),
			j("DELETE", "/api/v1/groups/nosuch/members/"+author, `{}`, 404)},
		"hideAuthor": {j("POST", "/api/v1/groups/demo/hidden-authors", `{"author":"`+author+`"}`, 201),
			j("POST", "/api/v1/groups/demo/hidden-authors", `{"author":"`+author+`"}`, 400),                 // hidden already
			j("POST", "/api/v1/groups/demo/hidden-authors", `{"author":"`+n.Home.Author.String()+`"}`, 400), // the owner
			j("POST", "/api/v1/groups/demo/hidden-authors", `{"author":"xyz"}`, 400), j("POST", "/api/v1/groups/demo/hidden-authors", `{}`, 400),
			j("POST", "/api/v1/groups/nosuch/hidden-authors", `{"author":"`+author+`"}`, 404)},
		"unhideAuthor": {j("DELETE", "/api/v1/groups/demo/hidden-authors/"+author, "", 201), j("DELETE", "/api/v1/groups/demo/hidden-authors/"+author, "", 400),
			j("DELETE", "/api/v1/groups/demo/hidden-authors/xyz", "", 400), j("DELETE", "/api/v1/groups/nosuch/hidden-authors/"+author, "", 404)},
		"getSet":        {j("GET", "/api/v1/groups/demo/sets/tags", "", 200), j("GET", "/api/v1/groups/nosuch/sets/tags", "", 404)},
		"addElement":    {j("POST", "/api/v1/groups/demo/sets/tags", `{"element":"y"}`, 201), j("POST", "/api/v1/groups/demo/sets/tags", `{"element":[]}`, 400)},
		"removeElement": {j("DELETE", "/api/v1/groups/demo/sets/tags/x", "", 201), j("DELETE", "/api/v1/groups/nosuch/sets/tags/x", `{}`, 404)},
		"findPaths":     {j("GET", "/api/v1/groups/demo/dir?prefix=docs", "", 200), j("GET", "/api/v1/groups/nosuch/dir", "", 404)},
		"getPath": {j("GET", "/api/v1/groups/demo/dir/docs/a.txt", "", 200), j("GET", "/api/v1/groups/demo/dir/docs/none", "", 404),
			j("GET", "/api/v1/groups/demo/dir/docs/a.txt?version="+a1.String()[:8], "", 200), j("GET", "/api/v1/groups/demo/dir/docs/a.txt?version="+p1.String(), "", 404),
			j("GET", "/api/v1/groups/demo/dir/docs/a.txt?version=zz", "", 400)},
		"putPath": {j("PUT", "/api/v1/groups/demo/dir/docs/b.txt", `{"value":"b"}`, 201), j("PUT", "/api/v1/groups/demo/dir/docs/c.bin", `{"value_base64":"AAEC"}`, 201),
			j("PUT", "/api/v1/groups/demo/dir/docs/b.txt", `{"value":true}`, 400), j("PUT", "/api/v1/groups/demo/dir/docs/b.txt", `{}`, 400),
			j("PUT", "/api/v1/groups/demo/dir/docs/b.txt", `{"value_base64":"!!"}`, 400)},
		"removePath":  {j("DELETE", "/api/v1/groups/demo/dir/docs/b.txt", `{}`, 201), j("DELETE", "/api/v1/groups/nosuch/dir/docs/b.txt", `{}`, 404)},
		"pathHistory": {j("GET", "/api/v1/groups/demo/history/docs/a.txt", "", 200), j("GET", "/api/v1/groups/demo/history/docs/none", "", 404)},
		"retractEntry": {j("POST", "/api/v1/groups/demo/entries/"+p1.String()+"/retract", `{}`, 201),
			j("POST", "/api/v1/groups/demo/entries/"+p1.String()+"/retract", "", 403), j("POST", "/api/v1/groups/demo/entries/"+unknown+"/retract", `{}`, 404)},
		"hideEntry":   {j("POST", "/api/v1/groups/demo/entries/"+p2.String()+"/hide", `{}`, 201), j("POST", "/api/v1/groups/demo/entries/"+unknown+"/hide", `{}`, 404)},
		"exportGroup": {j("GET", "/api/v1/groups/demo/export", "", 200), j("GET", "/api/v1/groups/nosuch/export", "", 404)},
		"importFile": {{method: "POST", path: "/api/v1/import", ctype: "application/octet-stream", body: string(export), want: 200},
			{method: "POST", path: "/api/v1/import", ctype: "application/octet-stream", body: "not an export file", want: 400}},
		"putFile": {{method: "PUT", path: "/api/v1/groups/demo/files/media/g.bin?k=2&m=1", ctype: "application/octet-stream", body: "more bytes", want: 201},
			{method: "PUT", path: "/api/v1/groups/demo/files/media/g.bin?k=none", ctype: "application/octet-stream", body: "x", want: 400},
			{method: "PUT", path: "/api/v1/groups/nosuch/files/g.bin", ctype: "application/octet-stream", body: "x", want: 404}},
		"getFile": {j("GET", "/api/v1/groups/demo/files/media/f.bin", "", 200), j("GET", "/api/v1/groups/demo/files/media/none", "", 404),
			j("GET", "/api/v1/groups/demo/files/docs/a.txt", "", 400)},
		"fileStatus":   {j("GET", "/api/v1/groups/demo/file-status/media/f.bin", "", 200), j("GET", "/api/v1/groups/demo/file-status/none", "", 404)},
		"streamEvents": {}, // a stream: TestEvents
	}

	doc := s.openAPIDoc()
	documented := map[string][]string{} // operation id → statuses
	paths := doc["paths"].(map[string]any)
	for _, item := range paths {
		for _, op := range item.(map[string]any) {
			op := op.(map[string]any)
			for code := range op["responses"].(map[string]any) {
				documented[op["operationId"].(string)] = append(documented[op["operationId"].(string)], code)
			}
		}
	}
	for id := range documented {
		if _, ok := cases[id]; !ok {
			t.Errorf("operation %s has no test cases", id)
		}
	}
	ids := make([]string, 0, len(cases))
	for id := range cases {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		calls := cases[id]
		if id != "getOpenAPI" && len(calls) > 0 { // every protected operation refuses a request without the token
			first := calls[0]
			first.noAuth, first.want = true, 401
			calls = append(calls, first)
		}
		for _, k := range calls {
			r := c.do(k.method, k.path, k.ctype, []byte(k.body), !k.noAuth, k.hdr...)
			if r.status != k.want {
				t.Errorf("%s %s %s: status %d, want %d: %s", id, k.method, k.path, r.status, k.want, r.body)
			}
			if !slices.Contains(documented[id], strconv.Itoa(r.status)) {
				t.Errorf("%s answered %d, which the document does not list (%v)", id, r.status, documented[id])
			}
			if r.status >= 400 {
				var e Error
				if json.Unmarshal(r.body, &e) != nil || e.Code == "" || e.Message == "" {
					t.Errorf("%s %s: error body %q is not {code, message}", k.method, k.path, r.body)
				}
			}
		}
	}
	if got := c.json("GET", "/api/v1/nosuch", ""); got.status != 404 || got.field(t, "code") != CodeNotFound {
		t.Errorf("unknown route: %d %s", got.status, got.body)
	}
}

// TestEvents: the stream reports a group's status at once, then an entry
// written on the node as it is stored.
func TestEvents(t *testing.T) {
	n, nw := serving(t)
	s := New(n, nw, Config{Token: token})
	srv := httptest.NewServer(s)
	defer srv.Close()
	g, _ := n.CreateGroup(group.Genesis{Name: "live", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/events?group=live", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	next := func() (string, string) {
		var ev, data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				ev = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			case line == "" && ev != "":
				return ev, data
			}
		}
	}
	if ev, data := next(); ev != "status" || !strings.Contains(data, `"name":"live"`) {
		t.Fatalf("first event %s %s", ev, data)
	}
	post, _ := n.Post(g, group.Post{Text: "now"}, entry.ID{})
	for {
		ev, data := next()
		if ev == "entry" {
			if !strings.Contains(data, post.String()) {
				t.Fatalf("entry event %s", data)
			}
			break
		}
	}
}

// TestLogin: a login URL works once and sets a session the API accepts;
// the UI is served at / with a strict content security policy.
func TestLogin(t *testing.T) {
	n, nw := serving(t)
	srv := httptest.NewServer(nil)
	s := New(n, nw, Config{Token: token, APIURL: srv.URL})
	srv.Config.Handler = s
	defer srv.Close()
	login := s.LoginURL()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(login)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login: %d, cookie %+v", resp.StatusCode, session)
	}
	if again, _ := noFollow.Get(login); again.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a used login URL: %d", again.StatusCode)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/status", nil)
	req.AddCookie(session)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("status with the session: %v %v", r, err)
	}
	ui, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(ui.Body)
	ui.Body.Close()
	if ui.StatusCode != 200 || !strings.Contains(string(body), "/app.js") || !strings.Contains(ui.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("ui: %d %q", ui.StatusCode, ui.Header.Get("Content-Security-Policy"))
	}
}
