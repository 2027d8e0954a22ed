package web

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"hearsay/internal/group"
)

// TestIdempotencyKey: a write sent again with its Idempotency-Key, even
// at the same time, is answered from its first run and stored once; the
// key with another request is refused; without a key, each write runs.
func TestIdempotencyKey(t *testing.T) {
	n, nw := serving(t)
	srv := httptest.NewServer(New(n, nw, Config{Token: token}))
	defer srv.Close()
	c := client{t, srv.URL}
	g, err := n.CreateGroup(group.Genesis{Name: "demo", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota})
	if err != nil {
		t.Fatal(err)
	}
	post := func(key, text string) reply {
		return c.do("POST", "/api/v1/groups/demo/posts", "application/json", []byte(`{"text":"`+text+`"}`), true, IdempotencyKey, key)
	}
	first := post("k1", "once")
	if first.status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if again := post("k1", "once"); again.status != first.status || string(again.body) != string(first.body) {
				t.Errorf("sent again: %d %s, first %s", again.status, again.body, first.body)
			}
		}()
	}
	wg.Wait()
	if r := post("k1", "another"); r.status != http.StatusBadRequest {
		t.Fatalf("the key with another body: %d %s", r.status, r.body)
	}
	if r := post("k2", "twice"); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	c.json("POST", "/api/v1/groups/demo/posts", `{"text":"twice"}`)
	log, err := n.Log(g, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]int{}
	for _, e := range log {
		texts[e.Text]++
	}
	if texts["once"] != 1 || texts["twice"] != 2 {
		t.Fatalf("stored: %v", texts)
	}
}
