package web

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// TestJoinCountsWhatItAdded: a join, and a join resumed after a leave,
// answer what the store gained and what it holds.
func TestJoinCountsWhatItAdded(t *testing.T) {
	n, nw := serving(t)
	other, otherNW := serving(t)
	srv := httptest.NewServer(New(n, nw, Config{Token: token}))
	defer srv.Close()
	c := client{t, srv.URL}
	g, err := other.CreateGroup(group.Genesis{Name: "far", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota})
	if err != nil {
		t.Fatal(err)
	}
	other.Post(g, group.Post{Text: "one"}, entry.ID{})
	join := func(wantAdded, wantEntries uint64) {
		t.Helper()
		r := c.do("POST", "/api/v1/groups/"+g.String()+"/join", "application/json", []byte(`{"peers":["`+otherNW.Addrs()[0]+`"]}`), true)
		var res JoinResult
		if err := json.Unmarshal(r.body, &res); err != nil || r.status != 200 {
			t.Fatalf("join: %d %s (%v)", r.status, r.body, err)
		}
		if res.Added != wantAdded || res.Entries != wantEntries {
			t.Fatalf("join: %+v, want %d added, %d held", res, wantAdded, wantEntries)
		}
	}
	join(2, 2)
	if err := n.Leave(g, false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"two", "three", "four"} {
		other.Post(g, group.Post{Text: p}, entry.ID{})
	}
	join(3, 5)
}
