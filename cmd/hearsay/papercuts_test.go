package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Issue 14's papercuts, each through the real command line.

// TestCountsAgree: a count of one takes the singular.
func TestCountsAgree(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo"))
	if l := must(t, hearsay(t, dir, nil, "--home", "a", "group", "list")); !strings.HasSuffix(l, "  1 entry") {
		t.Errorf("group list: %q, want it to end in \"1 entry\"", l)
	}
	r := hearsay(t, dir, nil, "--home", "a", "export", "demo", "-o", "demo.export")
	if r.code != 0 || !strings.Contains(r.stderr, "exported 1 entry of demo") {
		t.Errorf("export: exit %d, stderr %q", r.code, r.stderr)
	}
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	if got := must(t, hearsay(t, dir, nil, "--home", "b", "import", "demo.export")); got != "read 1 entry: 1 stored, 0 already held, 0 refused" {
		t.Errorf("import: %q", got)
	}
	if got, want := count(2, "entry", "entries"), "2 entries"; got != want {
		t.Errorf("count(2) = %q, want %q", got, want)
	}
	if got, want := count(uint64(0), "member", "members"), "0 members"; got != want {
		t.Errorf("count(0) = %q, want %q", got, want)
	}
}

// TestWritesPrintJSONObjects: with --json, a write prints {"id": …}, as
// the API answers, not a bare id.
func TestWritesPrintJSONObjects(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := jsonID(t, hearsay(t, dir, nil, "--home", "a", "--json", "group", "create", "demo"))
	for _, args := range [][]string{
		{"post", g, "hello"},
		{"set", "add", g, "s", "x"},
		{"dir", "put", g, "a/b", "v"},
		{"dir", "rm", g, "a/b"},
	} {
		jsonID(t, hearsay(t, dir, nil, append([]string{"--home", "a", "--json"}, args...)...))
	}
	const peer = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
	for _, args := range [][]string{{"ban", peer, "--for", "1h"}, {"unban", peer}} {
		out := must(t, hearsay(t, dir, nil, append([]string{"--home", "a", "--json"}, args...)...))
		var body map[string]string
		if err := json.Unmarshal([]byte(out), &body); err != nil || body["peer"] != peer {
			t.Errorf("%s --json: %q (%v)", args[0], out, err)
		}
	}
}

// jsonID reads the {"id": …} a write printed, failing on anything else.
func jsonID(t *testing.T, r result) string {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal([]byte(must(t, r)), &body); err != nil || len(body) != 1 || len(body["id"]) != 64 {
		t.Fatalf("stdout %q: want {\"id\": …} (%v)", r.stdout, err)
	}
	return body["id"]
}

// TestLargeStdinSaysItsSize: 13.5 MB on standard input is reported as
// what it is, against the limit an entry has.
func TestLargeStdinSaysItsSize(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo"))
	big := bytes.Repeat([]byte("x"), 14_155_776)
	for _, args := range [][]string{{"post", "demo", "-"}, {"dir", "put", "demo", "big", "-"}} {
		r := hearsay(t, dir, big, append([]string{"--home", "a"}, args...)...)
		if want := "standard input is 14155776 bytes: an entry holds at most 261120"; r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want %q", args[0], r.code, r.stderr, want)
		}
	}
	r := hearsay(t, dir, bytes.Repeat([]byte("x"), 70_000), "--home", "a", "dir", "put", "demo", "mid", "-")
	if want := `value of 70000 bytes: group "demo" takes bodies of at most 65536 bytes (its --max-body); large content goes in with ` + "`hearsay file put`"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("dir put of 70000 bytes: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
}

// TestDuplicateGroupNames: a second group of a name is created with a
// warning, and a name that is ambiguous says how to pick.
func TestDuplicateGroupNames(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	first := hearsay(t, dir, nil, "--home", "a", "group", "create", "demo")
	if first.code != 0 || first.stderr != "" {
		t.Fatalf("first create: exit %d, stderr %q", first.code, first.stderr)
	}
	second := hearsay(t, dir, nil, "--home", "a", "group", "create", "demo")
	id := strings.TrimSpace(second.stdout)
	if second.code != 0 || !strings.Contains(second.stderr, `warning: a group is already named "demo" (`+first.stdout[:12]+")") || !strings.Contains(second.stderr, id[:8]) {
		t.Errorf("second create: exit %d, stderr %q", second.code, second.stderr)
	}
	r := hearsay(t, dir, nil, "--home", "a", "log", "demo")
	if r.code != 1 || !strings.Contains(r.stderr, "pick one by an id prefix, such as ") {
		t.Errorf("log by an ambiguous name: exit %d, stderr %q", r.code, r.stderr)
	}
	must(t, hearsay(t, dir, nil, "--home", "a", "log", id[:8]))
}

// TestMemberByPrefix: member add and remove take a unique prefix of an
// author this node knows.
func TestMemberByPrefix(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	bob := must(t, hearsay(t, dir, nil, "--home", "b", "id"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo"))
	r := hearsay(t, dir, nil, "--home", "a", "group", "member", "add", "demo", bob[:8])
	if r.code != 1 || !strings.Contains(r.stderr, "no author this node knows") || !strings.Contains(r.stderr, "full 64-digit id") {
		t.Errorf("an author a never met, by prefix: exit %d, stderr %q", r.code, r.stderr)
	}
	// b's own group, imported, makes b an author a knows.
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "create", "bobs"))
	must(t, hearsay(t, dir, nil, "--home", "b", "export", "bobs", "-o", "bobs.export"))
	must(t, hearsay(t, dir, nil, "--home", "a", "import", "bobs.export"))
	must(t, hearsay(t, dir, nil, "--home", "a", "group", "member", "add", g, bob[:8]))
	if show := must(t, hearsay(t, dir, nil, "--home", "a", "group", "show", g)); !strings.Contains(show, "member        "+bob) {
		t.Errorf("group show after adding %s… :\n%s", bob[:8], show)
	}
	must(t, hearsay(t, dir, nil, "--home", "a", "group", "member", "remove", g, bob[:10]))
	if show := must(t, hearsay(t, dir, nil, "--home", "a", "group", "show", g)); strings.Contains(show, bob) {
		t.Errorf("group show after removing %s… :\n%s", bob[:10], show)
	}
}

// TestDirPaths: a leading slash is dropped, and get writes the value's
// bytes as they are when its output is no terminal.
func TestDirPaths(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo"))
	must(t, hearsay(t, dir, nil, "--home", "a", "dir", "put", "demo", "/a/b", "x"))
	for _, p := range []string{"a/b", "/a/b"} {
		if r := hearsay(t, dir, nil, "--home", "a", "dir", "get", "demo", p); r.code != 0 || r.stdout != "x" {
			t.Errorf("dir get %s: exit %d, stdout %q, stderr %q; want \"x\" as stored", p, r.code, r.stdout, r.stderr)
		}
	}
	if got := must(t, hearsay(t, dir, nil, "--home", "a", "dir", "find", "demo", "/")); got != "a/b" {
		t.Errorf("dir find /: %q", got)
	}
	for _, c := range []struct {
		in   string
		tty  bool
		want string
	}{
		{"x", false, "x"}, {"x", true, "x\n"}, {"x\n", true, "x\n"}, {"", true, ""}, {"\xff\x00", true, "\xff\x00"},
	} {
		if got := string(terminalText([]byte(c.in), c.tty)); got != c.want {
			t.Errorf("terminalText(%q, %v) = %q, want %q", c.in, c.tty, got, c.want)
		}
	}
}

// TestCompletionBesideANode: `hearsay completion bash` prints the script,
// a node serving the home or not (it is not a command for the node).
func TestCompletionBesideANode(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	check := func(when string) {
		r := hearsay(t, dir, nil, "--home", "a", "completion", "bash")
		if r.code != 0 || !strings.Contains(r.stdout, "__start_hearsay") {
			t.Errorf("completion bash %s: exit %d, stderr %q", when, r.code, r.stderr)
		}
	}
	check("alone")
	serve(t, dir, "--home", "a")
	check("beside a node")
}

// TestResumedJoinCountsWhatItAdded: joining again a group left earlier
// reports the entries the store gained, and what it holds.
func TestResumedJoinCountsWhatItAdded(t *testing.T) {
	dir := t.TempDir()
	for _, h := range []string{"a", "b"} {
		must(t, hearsay(t, dir, nil, "--home", h, "init"))
	}
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "one"))
	a := serve(t, dir, "--home", "a")
	first := hearsay(t, dir, nil, "--home", "b", "group", "join", g, "--peer", a.addrs[0])
	if first.code != 0 || !strings.Contains(first.stderr, `joined "demo": 2 entries added, 0 refused; it holds 2`) {
		t.Fatalf("join: exit %d, stderr %q", first.code, first.stderr)
	}
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "leave", g))
	for _, p := range []string{"two", "three", "four"} {
		must(t, hearsay(t, dir, nil, "--home", "a", "post", g, p))
	}
	again := hearsay(t, dir, nil, "--home", "b", "group", "join", g, "--peer", a.addrs[0])
	if again.code != 0 || !strings.Contains(again.stderr, `joined "demo": 3 entries added, 0 refused; it holds 5`) {
		t.Fatalf("join again: exit %d, stderr %q", again.code, again.stderr)
	}
}

// TestDirGetVersion: dir get --version reads any version dir history
// lists, by its id's prefix.
func TestDirGetVersion(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo"))
	first := must(t, hearsay(t, dir, nil, "--home", "a", "dir", "put", "demo", "notes/todo", "write the docs"))
	must(t, hearsay(t, dir, nil, "--home", "a", "dir", "put", "demo", "notes/todo", "ship it"))
	rm := must(t, hearsay(t, dir, nil, "--home", "a", "dir", "rm", "demo", "notes/todo"))
	hist := strings.Split(must(t, hearsay(t, dir, nil, "--home", "a", "dir", "history", "demo", "notes/todo")), "\n")
	if len(hist) != 3 || !strings.Contains(hist[2], first[:12]) {
		t.Fatalf("history:\n%s", strings.Join(hist, "\n"))
	}
	if r := hearsay(t, dir, nil, "--home", "a", "dir", "get", "demo", "notes/todo", "--version", first[:12]); r.code != 0 || r.stdout != "write the docs" {
		t.Errorf("dir get --version %s: exit %d, stdout %q, stderr %q", first[:12], r.code, r.stdout, r.stderr)
	}
	if got := must(t, hearsay(t, dir, nil, "--home", "a", "--json", "dir", "get", "demo", "notes/todo", "--version", first[:8])); !strings.Contains(got, `"value":"write the docs"`) || !strings.Contains(got, first) {
		t.Errorf("dir get --json --version: %s", got)
	}
	for _, c := range []struct{ version, want string }{
		{rm[:8], "that version removed it"},
		{"zz", `version: malformed id "zz"`},
		{strings.Repeat("0", 12), "no such entry"},
	} {
		r := hearsay(t, dir, nil, "--home", "a", "dir", "get", "demo", "notes/todo", "--version", c.version)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("dir get --version %s: exit %d, stderr %q; want %q", c.version, r.code, r.stderr, c.want)
		}
	}
	// Through a serving node, the same.
	serve(t, dir, "--home", "a")
	if r := hearsay(t, dir, nil, "--home", "a", "dir", "get", "demo", "/notes/todo", "--version", first[:12]); r.code != 0 || r.stdout != "write the docs" {
		t.Errorf("dir get --version through the node: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
