package web

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/node"
)

// TestHideAuthorOverREST: the owner of an open group hides another author
// through the API: the author's post leaves the log and the group lists the
// author as hidden, by whom; a non-admin's hide is forbidden; the unhide
// brings the post back.
func TestHideAuthorOverREST(t *testing.T) {
	n, nw := serving(t)
	other, otherNW := serving(t)
	srv := httptest.NewServer(New(n, nw, Config{Token: token}))
	defer srv.Close()
	otherSrv := httptest.NewServer(New(other, otherNW, Config{Token: token}))
	defer otherSrv.Close()
	c, oc := client{t, srv.URL}, client{t, otherSrv.URL}
	g, err := n.CreateGroup(group.Genesis{Name: "open", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota})
	if err != nil {
		t.Fatal(err)
	}
	copyGroup := func(from, to *node.Node) {
		t.Helper()
		var b bytes.Buffer
		if _, err := from.Export(g, &b); err != nil {
			t.Fatal(err)
		}
		if _, err := to.Import(&b); err != nil {
			t.Fatal(err)
		}
	}
	copyGroup(n, other)
	if _, err := other.Post(g, group.Post{Text: "noise"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	copyGroup(other, n)
	them := other.Home.Author.String()
	texts := func() string {
		t.Helper()
		var log []node.LogEntry
		if r := c.json("GET", "/api/v1/groups/open/log", ""); r.status != 200 || json.Unmarshal(r.body, &log) != nil {
			t.Fatalf("log: %d %s", r.status, r.body)
		}
		var out []string
		for _, l := range log {
			if l.Kind == group.KindPost {
				out = append(out, l.Text)
			}
		}
		return strings.Join(out, ",")
	}
	if got := texts(); got != "noise" {
		t.Fatalf("log before the hide: %q", got)
	}
	if r := oc.json("POST", "/api/v1/groups/open/hidden-authors", `{"author":"`+strings.Repeat("cd", 32)+`"}`); r.status != 403 || r.field(t, "code") != CodeForbidden {
		t.Fatalf("a non-admin's hide-author: %d %s", r.status, r.body)
	}
	r := c.json("POST", "/api/v1/groups/open/hidden-authors", `{"author":"`+them+`"}`)
	if r.status != 201 {
		t.Fatalf("hide-author: %d %s", r.status, r.body)
	}
	hide := r.field(t, "id")
	if got := texts(); got != "" {
		t.Fatalf("log after the hide: %q", got)
	}
	var info node.GroupInfo
	if r := c.json("GET", "/api/v1/groups/open", ""); r.status != 200 || json.Unmarshal(r.body, &info) != nil {
		t.Fatalf("group: %d %s", r.status, r.body)
	}
	if want := (node.HiddenAuthorInfo{Author: them, By: n.Home.Author.String(), Entry: hide}); len(info.Hidden) != 1 || info.Hidden[0] != want {
		t.Fatalf("hidden authors %+v, want %+v", info.Hidden, want)
	}
	if r := c.json("DELETE", "/api/v1/groups/open/hidden-authors/"+them, ""); r.status != 201 {
		t.Fatalf("unhide-author: %d %s", r.status, r.body)
	}
	if got := texts(); got != "noise" {
		t.Fatalf("log after the unhide: %q", got)
	}
}
