package web

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// TestBadInputRefused: bodies that encoding/json would quietly alter (bytes
// that are not UTF-8, lone surrogates, keys given twice or in another
// case) are refused with a 400 and store nothing; an oversized body is a
// 413; an over-long id a 400; a read from a foreign origin a 403.
func TestBadInputRefused(t *testing.T) {
	n, nw := serving(t)
	srv := httptest.NewServer(New(n, nw, Config{Token: token}))
	defer srv.Close()
	c := client{t, srv.URL}
	g, err := n.CreateGroup(group.Genesis{Name: "demo", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []struct{ method, path, body string }{
		{"POST", "/api/v1/groups/demo/posts", "{\"text\":\"a\xffb\"}"},
		{"POST", "/api/v1/groups/demo/posts", `{"text":"a\ud800b"}`},
		{"POST", "/api/v1/groups/demo/posts", `{"text":"a\udc00"}`},
		{"POST", "/api/v1/groups/demo/posts", `{"text":"a","text":"b"}`},
		{"POST", "/api/v1/groups/demo/posts", `{"Text":"a"}`},
		{"POST", "/api/v1/groups/demo/posts", `{"text":"a","TEXT":"b"}`},
		{"POST", "/api/v1/groups/demo/sets/tags", "{\"element\":\"\xfe\"}"},
		{"PUT", "/api/v1/groups/demo/dir/p", "{\"value\":\"\xc0\xaf\"}"},
		{"POST", "/api/v1/groups", "{\"name\":\"bad\xff\"}"},
		{"POST", "/api/v1/groups/" + g.String() + "/join", `{"peers":[],"peers":["x"]}`},
	} {
		if r := c.json(b.method, b.path, b.body); r.status != http.StatusBadRequest || r.field(t, "code") != CodeBadRequest {
			t.Fatalf("%s %s %q: %d %s", b.method, b.path, b.body, r.status, r.body)
		}
	}
	// What is valid still passes: a surrogate pair, an escaped backslash.
	for _, body := range []string{`{"text":"\ud83d\ude00"}`, `{"text":"\\ud800"}`} {
		if r := c.json("POST", "/api/v1/groups/demo/posts", body); r.status != http.StatusCreated {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
	}
	log, err := n.Log(g, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range log {
		if e.Kind == "post" {
			texts = append(texts, e.Text)
		}
	}
	slices.Sort(texts)
	if !slices.Equal(texts, []string{`\ud800`, "😀"}) {
		t.Fatalf("posts stored: %q", texts)
	}
	if v, _ := n.View(g); v != nil {
		if els, _ := v.Set("tags"); len(els) != 0 {
			t.Fatalf("set elements stored: %v", els)
		}
	}

	// 100 MB of JSON, streamed: a 413, not "unexpected EOF".
	huge := io.MultiReader(strings.NewReader(`{"text":"`), io.LimitReader(repeat('a'), 100<<20), strings.NewReader(`"}`))
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/groups/demo/posts", huge)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 100 MB body: %v %v", resp, err)
	}

	if r := c.json("GET", "/api/v1/groups/demo/threads/"+strings.Repeat("a", 2*len(entry.ID{})+1), ""); r.status != http.StatusBadRequest {
		t.Fatalf("a 65-digit id: %d %s", r.status, r.body)
	}

	for _, scheme := range []string{"bearer", "BEARER", "Bearer "} {
		if r := c.do("GET", "/api/v1/groups", "", nil, false, "Authorization", scheme+" "+token); r.status != http.StatusOK {
			t.Fatalf("%q: %d %s", scheme, r.status, r.body)
		}
	}
	if r := c.do("GET", "/api/v1/groups", "", nil, true, "Origin", "http://evil.example"); r.status != http.StatusForbidden {
		t.Fatalf("a GET from a foreign origin: %d %s", r.status, r.body)
	}
	if r := c.do("GET", "/api/v1/groups", "", nil, true, "Origin", srv.URL); r.status != http.StatusOK {
		t.Fatalf("a GET from this origin: %d %s", r.status, r.body)
	}

	// A refused client keeps no connection.
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET /api/v1/groups HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil || resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Fatalf("without the token: %v %v", resp, err)
	}
}

type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}
