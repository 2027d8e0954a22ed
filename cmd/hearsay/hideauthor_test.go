package main

import (
	"strings"
	"testing"
	"time"
)

// TestHideAuthorAcrossNodes: two real nodes on 127.0.0.1 share an open
// group. B posts; A, its owner, hides B with `hide-author`, and B's own
// node stops showing B's post as the hide reaches it; `group show` names
// the hidden author and the way back; B, no admin, cannot lift it; A's
// `unhide-author` shows the post on B again.
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

	must(t, hearsay(t, dir, nil, "--home", "a", "hide-author", g, bID))
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
