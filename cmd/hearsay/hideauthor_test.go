package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearsay/internal/archive"
	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"
)

// equivocate makes the author of home `author` equivocate in group g as
// home `reader` sees it: it signs, with that author's key, a second post
// with the seq of the author's last post in reader's log, and imports it
// into reader in an export file.
func equivocate(t *testing.T, dir, author, reader, g string) {
	t.Helper()
	h, err := home.Open(filepath.Join(dir, author))
	if err != nil {
		t.Fatal(err)
	}
	var last node.LogEntry
	for _, line := range strings.Split(must(t, hearsay(t, dir, nil, "--home", reader, "log", g, "--json")), "\n") {
		var l node.LogEntry
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log --json line %q: %v", line, err)
		}
		if l.Author == h.Author.String() && l.Kind == group.KindPost {
			last = l
		}
	}
	gid, err := entry.ParseID(g)
	if last.ID == "" || err != nil {
		t.Fatalf("no post of %s in %s on %s (%v)", author, g, reader, err)
	}
	body, _ := group.EncodePost(group.Post{Text: "a second story, same seq"})
	fork, err := entry.Sign(entry.Entry{Group: gid, Author: h.Author, Seq: last.Seq, HLC: last.HLC + 1, Kind: group.KindPost, Body: body}, h.Key)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := archive.NewWriter(&b).Write(fork.Raw); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "fork.export")
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	must(t, hearsay(t, dir, nil, "--home", reader, "import", file))
}

// TestHideAuthorAcrossNodes: two real nodes on 127.0.0.1 share an open
// group. B posts, and equivocates; A's `group show` names B as an
// equivocator and gives the command that hides it; A, the owner, runs it,
// and B's own node stops showing B's post as the hide reaches it; `group
// show` names the hidden author and the way back; B, no admin, cannot lift
// it; A's `unhide-author` shows the post on B again.
func TestHideAuthorAcrossNodes(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "open", "--write", "open"))
	a := serve(t, dir, "--home", "a")
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	bID := must(t, hearsay(t, dir, nil, "--home", "b", "id"))
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "join", g, "--peer", a.addrs[0]))
	b := serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])
	must(t, hearsay(t, dir, nil, "--home", "b", "post", g, "noise from b"))
	shows := func(home string) bool {
		return strings.Contains(must(t, hearsay(t, dir, nil, "--home", home, "log", g)), "noise from b")
	}
	eventually(t, 15*time.Second, "b's post reaching a", func() bool { return shows("a") })
	// b equivocates: a's group show names it and says how to hide it.
	equivocate(t, dir, "b", "a", g)
	if show := must(t, hearsay(t, dir, nil, "--home", "a", "group", "show", g)); !strings.Contains(show, "equivocator   "+bID) ||
		!strings.Contains(show, "hearsay hide-author "+g[:8]+" "+bID[:12]) {
		t.Fatalf("group show on a after b equivocated:\n%s", show)
	}

	must(t, hearsay(t, dir, nil, "--home", "a", "hide-author", g, bID[:12])) // as group show put it
	if show := must(t, hearsay(t, dir, nil, "--home", "a", "group", "show", g)); !strings.Contains(show, "share a seq), hidden") {
		t.Fatalf("group show on a after hiding the equivocator:\n%s", show)
	}
	if log := must(t, hearsay(t, dir, nil, "--home", "a", "log", g)); strings.Contains(log, "noise from b") || !strings.Contains(log, "hid author "+bID[:12]) {
		t.Fatalf("a's log after hiding b:\n%s", log)
	}
	if all := must(t, hearsay(t, dir, nil, "--home", "a", "log", g, "--all")); !strings.Contains(all, "noise from b") || !strings.Contains(all, "hidden") {
		t.Fatalf("log --all after the hide:\n%s", all)
	}
	eventually(t, 15*time.Second, "the hide reaching b", func() bool { return !shows("b") })
	show := must(t, hearsay(t, dir, nil, "--home", "b", "group", "show", g))
	if !strings.Contains(show, "hidden author "+bID) || !strings.Contains(show, "unhide-author") {
		t.Fatalf("group show on b after the hide:\n%s", show)
	}
	if r := hearsay(t, dir, nil, "--home", "b", "unhide-author", g, bID[:8]); r.code != 1 || !strings.Contains(r.stderr, "not an admin") {
		t.Fatalf("b lifting its own hide: exit %d, %q", r.code, r.stderr)
	}
	if r := hearsay(t, dir, nil, "--home", "a", "hide-author", g, bID); r.code != 1 || !strings.Contains(r.stderr, "already") {
		t.Fatalf("hiding b twice: exit %d, %q", r.code, r.stderr)
	}

	must(t, hearsay(t, dir, nil, "--home", "a", "unhide-author", g, bID[:8]))
	eventually(t, 15*time.Second, "the unhide reaching b", func() bool { return shows("b") })
	a.stop(t)
	b.stop(t)
}
