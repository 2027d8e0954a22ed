package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearsay/internal/node"
)

// TestCapsPauseAGroupOnOneNode: B caps an open group at 5 entries a day.
// A member floods it through A; B stores 5, pauses the group (it says so in
// `group show` and `status`, leaves the overlay, refuses its own writes to
// it with a way out) while A goes on; resumed, B catches up at once.
func TestCapsPauseAGroupOnOneNode(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "flooded", "--write", "open"))
	a := serve(t, dir, "--home", "a")
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "join", g, "--peer", a.addrs[0]))
	if out := must(t, hearsay(t, dir, nil, "--home", "b", "group", "caps", g, "--entries-per-day", "5")); !strings.Contains(out, "at most 5 entries") {
		t.Fatalf("caps printed %q", out)
	}
	// A flag not given keeps its cap; without flags, the caps are shown.
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "caps", g, "--bytes-per-day", "1000000"))
	if out := must(t, hearsay(t, dir, nil, "--home", "b", "group", "caps", g)); out != "flooded: at most 5 entries and 1000000 bytes a day" {
		t.Fatalf("caps shown as %q", out)
	}
	b := serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])
	apiA, tokenA := servedAPI(t, filepath.Join(dir, "a"))
	apiB, tokenB := servedAPI(t, filepath.Join(dir, "b"))
	post := func(api, token, text string) int {
		raw, _ := json.Marshal(map[string]string{"text": text})
		req, _ := http.NewRequest("POST", api+"/api/v1/groups/"+g+"/posts", bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	info := func(api, token string) node.GroupInfo { return groupInfoOver(t, api, token, g) }
	held := info(apiB, tokenB).Entries // the genesis, before the caps
	const posts = 12
	for i := range posts {
		if code := post(apiA, tokenA, fmt.Sprint("flood ", i)); code != http.StatusCreated {
			t.Fatalf("post %d on a: HTTP %d", i, code)
		}
	}
	eventually(t, 15*time.Second, "b pausing the group", func() bool { return info(apiB, tokenB).Paused != nil })
	gi := info(apiB, tokenB)
	if gi.Paused.Over != "entries" || gi.Entries != held+5 || gi.Caps.EntriesPerDay != 5 {
		t.Fatalf("b paused with %d entries (held %d before, cap 5): %+v", gi.Entries, held, gi)
	}
	if got := info(apiA, tokenA).Entries; got != held+posts {
		t.Fatalf("a holds %d entries, want %d: b's caps are b's alone", got, held+posts)
	}
	show := must(t, hearsay(t, dir, nil, "--home", "b", "group", "show", g))
	if !strings.Contains(show, "paused here") || !strings.Contains(show, "group resume") {
		t.Fatalf("group show of a paused group:\n%s", show)
	}
	if st := must(t, hearsay(t, dir, nil, "--home", "b", "status")); !strings.Contains(st, "PAUSED") {
		t.Fatalf("status of a paused group:\n%s", st)
	}
	eventually(t, 10*time.Second, "b leaving the paused group's overlay", func() bool {
		var st node.Status
		json.Unmarshal([]byte(hearsay(t, dir, nil, "--home", "b", "status", "--json").stdout), &st)
		return len(st.Groups) == 1 && st.Groups[0].Paused && len(st.Groups[0].Neighbours) == 0
	})
	if r := hearsay(t, dir, nil, "--home", "b", "post", g, "mine"); r.code != 1 || !strings.Contains(r.stderr, "paused") || !strings.Contains(r.stderr, "group resume") {
		t.Fatalf("a post to a paused group: exit %d, %q", r.code, r.stderr)
	}
	// Still paused after another post and a while: nothing more was stored.
	if code := post(apiA, tokenA, "one more"); code != http.StatusCreated {
		t.Fatalf("a post on a: HTTP %d", code)
	}
	time.Sleep(time.Second)
	if got := info(apiB, tokenB).Entries; got != held+5 {
		t.Fatalf("a paused group grew to %d entries", got)
	}
	if out := must(t, hearsay(t, dir, nil, "--home", "b", "group", "resume", g)); !strings.Contains(out, "resumed") {
		t.Fatalf("resume printed %q", out)
	}
	// The rest of the paused day goes in beyond the cap, at once (not at
	// the next anti-entropy round, 30 s away).
	eventually(t, 10*time.Second, "b catching up after resume", func() bool { return info(apiB, tokenB).Entries == held+posts+1 })
	if r := hearsay(t, dir, nil, "--home", "b", "group", "resume", g); r.code != 1 || !strings.Contains(r.stderr, "not paused") {
		t.Fatalf("a second resume: exit %d, %q", r.code, r.stderr)
	}
	a.stop(t)
	b.stop(t)
}
