package web

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"hearsay/internal/node"
)

// route is one operation: how it is served and how the OpenAPI document
// describes it. The document is generated from this table, so the two
// cannot drift apart.
type route struct {
	method, pattern string // a net/http pattern; {name...} takes the rest of the path
	id, summary     string
	query           []param
	body            any // the request body's type (nil: none)
	bodyType        string
	ok              int // the success status
	resp            any // the success body's type (nil: described by respType)
	respType        string
	errs            []int // error statuses besides 401 and 403
	public          bool  // served without authentication
	json            func(*http.Request) (result, error)
	raw             http.HandlerFunc
}

type param struct {
	name, kind, doc string
}

func (s *Server) routes() []route {
	g := []int{http.StatusNotFound, http.StatusConflict} // a {group} that names nothing, or several
	bad := []int{http.StatusBadRequest}
	both := append(bad, g...)
	all := param{"all", "boolean", "include retracted, hidden and invalid entries, marked"}
	return []route{
		{method: "GET", pattern: "/api/v1/openapi.json", id: "getOpenAPI", summary: "This document", ok: 200, respType: "application/json", public: true,
			raw: s.openAPI},
		{method: "GET", pattern: "/api/v1/id", id: "getIdentity", summary: "The node's author id and peer id", ok: 200, resp: Identity{}, json: s.getIdentity},
		{method: "GET", pattern: "/api/v1/status", id: "getStatus", summary: "The node: addresses, and per group entries, digest, neighbours, last sync", ok: 200, resp: node.Status{}, json: s.getStatus},
		{method: "GET", pattern: "/api/v1/peers", id: "listPeers", summary: "Connected peers, with traffic and violations", ok: 200, resp: []node.PeerInfo{}, json: s.listPeers},
		{method: "GET", pattern: "/api/v1/bans", id: "listBans", summary: "Peers banned now, until when, and how many times (docs/security.md)", ok: 200, resp: []node.BanInfo{}, json: s.listBans},
		{method: "GET", pattern: "/api/v1/events", id: "streamEvents", summary: "Server-Sent Events: `entry` for each entry stored, `status` when a group's standing changes", ok: 200, respType: "text/event-stream",
			query: []param{{"group", "string", "only this group (id, id prefix or name)"}}, errs: g, raw: s.events},
		{method: "GET", pattern: "/api/v1/groups", id: "listGroups", summary: "The groups this node holds", ok: 200, resp: []node.GroupInfo{}, json: s.listGroups},
		{method: "POST", pattern: "/api/v1/groups", id: "createGroup", summary: "Create a group owned by this node", body: CreateGroupBody{}, ok: 201, resp: IDBody{}, errs: bad, json: s.createGroup},
		{method: "GET", pattern: "/api/v1/groups/{group}", id: "getGroup", summary: "A group's policies, members, entries and digest", ok: 200, resp: node.GroupInfo{}, errs: g, json: s.getGroup},
		{method: "POST", pattern: "/api/v1/groups/{group}/join", id: "joinGroup", summary: "Fetch a group (full id) from peers, or from members the DHT names, and replicate it", body: JoinBody{}, ok: 200, resp: JoinResult{},
			errs: []int{http.StatusBadRequest, http.StatusServiceUnavailable}, json: s.joinGroup},
		{method: "POST", pattern: "/api/v1/groups/{group}/leave", id: "leaveGroup", summary: "Stop replicating a group; purge deletes its entries here", body: LeaveBody{}, ok: 200, resp: IDBody{}, errs: both, json: s.leaveGroup},
		{method: "GET", pattern: "/api/v1/groups/{group}/log", id: "getLog", summary: "A group's entries, newest first", ok: 200, resp: []node.LogEntry{},
			query: []param{{"limit", "integer", "at most this many (0: all)"}, all}, errs: both, json: s.getLog},
		{method: "POST", pattern: "/api/v1/groups/{group}/posts", id: "createPost", summary: "Write a post, or a reply", body: PostBody{}, ok: 201, resp: IDBody{}, errs: both, json: s.createPost},
		{method: "GET", pattern: "/api/v1/groups/{group}/threads", id: "listThreads", summary: "A page of the group's threads, latest activity first: each root post, its reply count and last activity",
			ok: 200, resp: node.ThreadPage{}, errs: both, json: s.listThreads,
			query: []param{{"limit", "integer", "at most this many threads (default and most: 200)"}, {"after", "string", "the `next` cursor of the page before"}}},
		{method: "GET", pattern: "/api/v1/groups/{group}/threads/{entry}", id: "getThread", summary: "A post and the tree of its replies", ok: 200, resp: node.ThreadPost{},
			query: []param{all}, errs: both, json: s.getThread},
		{method: "POST", pattern: "/api/v1/groups/{group}/members", id: "addMember", summary: "Let an author write to a members group (admins only)", body: MemberBody{}, ok: 201, resp: IDBody{}, errs: both, json: s.addMember},
		{method: "DELETE", pattern: "/api/v1/groups/{group}/members/{author}", id: "removeMember", summary: "Stop an author writing from now on (admins only)", ok: 201, resp: IDBody{}, errs: both, json: s.removeMember},
		{method: "POST", pattern: "/api/v1/groups/{group}/hidden-authors", id: "hideAuthor", summary: "Hide every entry of an author, in any group you administer (admins only; the entries are still stored and replicated)", body: AuthorBody{}, ok: 201, resp: IDBody{}, errs: both, json: s.hideAuthor(true)},
		{method: "DELETE", pattern: "/api/v1/groups/{group}/hidden-authors/{author}", id: "unhideAuthor", summary: "Show a hidden author's entries again (admins only)", ok: 201, resp: IDBody{}, errs: both, json: s.hideAuthor(false)},
		{method: "GET", pattern: "/api/v1/groups/{group}/sets", id: "listSets", summary: "The names of the group's sets", ok: 200, resp: []string{}, errs: both, json: s.listSets},
		{method: "GET", pattern: "/api/v1/groups/{group}/sets/{set}", id: "getSet", summary: "A set's elements", ok: 200, resp: []Element{}, errs: both, json: s.getSet},
		{method: "POST", pattern: "/api/v1/groups/{group}/sets/{set}", id: "addElement", summary: "Add an element to a set", body: ElementBody{}, ok: 201, resp: IDBody{}, errs: both, json: s.addElement},
		{method: "DELETE", pattern: "/api/v1/groups/{group}/sets/{set}/{element}", id: "removeElement", summary: "Remove an element from a set", ok: 201, resp: IDBody{}, errs: both, json: s.removeElement},
		{method: "GET", pattern: "/api/v1/groups/{group}/dir", id: "findPaths", summary: "The live paths that start with a prefix", ok: 200, resp: []node.PathVersion{},
			query: []param{{"prefix", "string", "path prefix; empty lists every path"}}, errs: both, json: s.findPaths},
		{method: "GET", pattern: "/api/v1/groups/{group}/dir/{path...}", id: "getPath", summary: "A path's latest version and value, or the version asked for",
			query: []param{{"version", "string", "a version's entry id or unique prefix, as the path's history lists them (default: the latest)"}},
			ok:    200, resp: node.PathVersion{}, errs: both, json: s.getPath},
		{method: "PUT", pattern: "/api/v1/groups/{group}/dir/{path...}", id: "putPath", summary: "Write a new version of a path", body: ValueBody{}, ok: 201, resp: IDBody{}, errs: both, json: s.putPath},
		{method: "DELETE", pattern: "/api/v1/groups/{group}/dir/{path...}", id: "removePath", summary: "Remove a path (a tombstone; its history stays)", ok: 201, resp: IDBody{}, errs: both, json: s.removePath},
		{method: "GET", pattern: "/api/v1/groups/{group}/history/{path...}", id: "pathHistory", summary: "Every version of a path, newest first", ok: 200, resp: []node.PathVersion{}, errs: both, json: s.pathHistory},
		{method: "POST", pattern: "/api/v1/groups/{group}/entries/{entry}/retract", id: "retractEntry", summary: "Withdraw one of your own entries", ok: 201, resp: IDBody{}, errs: both, json: s.withdraw((*node.Node).Retract)},
		{method: "POST", pattern: "/api/v1/groups/{group}/entries/{entry}/hide", id: "hideEntry", summary: "Hide an entry of a group you administer", ok: 201, resp: IDBody{}, errs: both, json: s.withdraw((*node.Node).Hide)},
		{method: "PUT", pattern: "/api/v1/groups/{group}/files/{path...}", id: "putFile", summary: "Store the body (Content-Length required) as a new version of a large file: coded into shards and placed on peers before the answer",
			query:    []param{{"k", "integer", "data shards per stripe (default: from the peers there are)"}, {"m", "integer", "parity shards per stripe, with k"}},
			bodyType: "application/octet-stream", ok: 201, resp: FilePut{}, errs: both, raw: s.putFile},
		{method: "GET", pattern: "/api/v1/groups/{group}/files/{path...}", id: "getFile", summary: "A large file's content, verified as it streams; Range requests work",
			query: []param{{"version", "string", "a version's entry id or prefix (default: the latest)"}, {"from", "integer", "send the content from this offset on (a resumed download)"}},
			ok:    200, respType: "application/octet-stream", errs: both, raw: s.getFile},
		{method: "GET", pattern: "/api/v1/groups/{group}/file-status/{path...}", id: "fileStatus", summary: "A large file's health: shards live per stripe, holders",
			query: []param{{"version", "string", "a version's entry id or prefix (default: the latest)"}}, ok: 200, resp: node.FileStatus{}, errs: both, json: s.fileStatus},
		{method: "GET", pattern: "/api/v1/groups/{group}/export", id: "exportGroup", summary: "The group as an export file (docs/protocol.md §9)", ok: 200, respType: "application/octet-stream", errs: g, raw: s.exportGroup},
		{method: "POST", pattern: "/api/v1/import", id: "importFile", summary: "Store the entries of an export file sent as the body", bodyType: "application/octet-stream", ok: 200, resp: node.ImportResult{}, errs: bad, json: s.importFile},
	}
}

var pathParam = regexp.MustCompile(`\{([a-z]+)(\.\.\.)?\}`)

var paramDocs = map[string]string{
	"group":   "a group: full id, unique id prefix (4+ hex digits) or unique name",
	"entry":   "an entry: full id or unique id prefix",
	"author":  "an author id (64 hex digits, from `hearsay id`)",
	"set":     "a set's name",
	"element": "a set element",
	"path":    "a directory path; its segments are joined by /",
}

// openAPI serves the OpenAPI 3.1 document of the routes.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.openAPIDoc())
}

func (s *Server) openAPIDoc() map[string]any {
	schemas := map[string]any{}
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(Error{}), schemas)}}}
	}
	paths := map[string]any{}
	for _, rt := range s.routes() {
		p := pathParam.ReplaceAllString(rt.pattern, "{$1}")
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		op := map[string]any{"operationId": rt.id, "summary": rt.summary}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.pattern, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "description": paramDocs[m[1]], "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.query {
			params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.doc, "schema": map[string]any{"type": q.kind}})
		}
		if params != nil {
			op["parameters"] = params
		}
		switch {
		case rt.body != nil:
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.body), schemas)}}}
		case rt.bodyType != "":
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{rt.bodyType: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		}
		success := map[string]any{"description": "success"}
		switch {
		case rt.resp != nil:
			success["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.resp), schemas)}}
		case rt.respType != "":
			success["content"] = map[string]any{rt.respType: map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		responses := map[string]any{statusKey(rt.ok): success}
		if !rt.public {
			responses["401"] = errResp("no or wrong token, or no session")
			if rt.method != "GET" {
				responses["403"] = errResp("a cross-site request, or one the group's rules refuse")
			}
		}
		for _, code := range rt.errs {
			responses[statusKey(code)] = errResp(http.StatusText(code))
		}
		op["responses"] = responses
		if !rt.public {
			op["security"] = []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}}
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "hearsay node API", "version": "1",
			"description": "The local API of a hearsay node: everything the CLI does. Errors are JSON objects with a stable `code` and a human `message`."},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "the token in <home>/api.token"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie, "description": "set by the login URL `hearsay serve` prints"},
			},
		},
	}
}

func statusKey(code int) string { return strconv.Itoa(code) }

// schemaOf describes a Go type as JSON Schema the way encoding/json
// encodes it; named structs become components, referenced by $ref.
func schemaOf(t reflect.Type, comps map[string]any) map[string]any {
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), comps)
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), comps)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), comps)}
	case reflect.Struct:
		name := t.Name()
		ref := map[string]any{"$ref": "#/components/schemas/" + name}
		if _, ok := comps[name]; ok {
			return ref
		}
		comps[name] = nil // a placeholder stops recursion through this type
		props := map[string]any{}
		var required []string
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			fname, opts, _ := strings.Cut(tag, ",")
			if fname == "" {
				fname = f.Name
			}
			props[fname] = schemaOf(f.Type, comps)
			if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
				required = append(required, fname)
			}
		}
		sch := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if required != nil {
			sch["required"] = required
		}
		comps[name] = sch
		return ref
	}
	return map[string]any{}
}
