package web

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/node"
)

// TestPathVersions: ?version= reads an old value by its version's id or a
// prefix of it; an rm version has none, and an entry that is no version
// of the path is not found.
func TestPathVersions(t *testing.T) {
	n, nw := serving(t)
	srv := httptest.NewServer(New(n, nw, Config{Token: token}))
	defer srv.Close()
	c := client{t, srv.URL}
	g, err := n.CreateGroup(group.Genesis{Name: "demo", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota})
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := n.DirPut(g, "notes/todo", []byte("one"))
	v2, _ := n.DirPut(g, "notes/todo", []byte{0xff, 0x00})
	rm, _ := n.DirRm(g, "notes/todo")
	n.DirPut(g, "notes/todo", []byte("three"))
	post, _ := n.Post(g, group.Post{Text: "not a version"}, entry.ID{})
	for _, tc := range []struct {
		version string
		status  int
		value   string
		base64  string
	}{
		{"", 200, "three", ""},
		{v1.String(), 200, "one", ""},
		{v1.String()[:8], 200, "one", ""},
		{v2.String()[:12], 200, "", "/wA="},
		{rm.String()[:8], 404, "", ""},
		{post.String()[:8], 404, "", ""},
		{"xyz", 400, "", ""},
	} {
		r := c.do("GET", "/api/v1/groups/demo/dir/notes/todo?version="+tc.version, "", nil, true)
		if r.status != tc.status {
			t.Errorf("version %q: status %d, want %d: %s", tc.version, r.status, tc.status, r.body)
			continue
		}
		if r.status != 200 {
			continue
		}
		var pv node.PathVersion
		if err := json.Unmarshal(r.body, &pv); err != nil {
			t.Fatal(err)
		}
		got, got64 := "", ""
		if pv.Value != nil {
			got = *pv.Value
		}
		if pv.ValueBase64 != nil {
			got64 = *pv.ValueBase64
		}
		if got != tc.value || got64 != tc.base64 || (tc.version != "" && pv.ID[:len(tc.version)] != tc.version) {
			t.Errorf("version %q: %+v (value %q, base64 %q)", tc.version, pv, got, got64)
		}
	}
}
