package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hearsay/internal/store"
)

// asCLI makes this test binary behave as hearsay, so the tests run real
// processes without building the command a second time.
const asCLI = "HEARSAY_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		if f := os.Getenv(peakFile); f != "" {
			writePeak(f)
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// binDir returns a directory holding a `hearsay` that is this test binary.
func binDir(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(dir, "hearsay")); err != nil {
		t.Fatal(err)
	}
	return dir
}

type result struct {
	stdout, stderr string
	code           int
}

// hearsay runs the command as a separate process in dir.
func hearsay(t *testing.T, dir string, stdin []byte, args ...string) result {
	t.Helper()
	exe, _ := os.Executable()
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asCLI+"=1", "HEARSAY_HOME="+filepath.Join(dir, "default-home"))
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func must(t *testing.T, r result) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// readmeBlock returns the shell block that follows the marker in README.md.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- " + marker + " -->\\s*```sh\\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("README.md has no sh block after <!-- %s -->", marker)
	}
	return string(m[1])
}

// TestReadmeOfflineTour runs the README's offline tour, and the views tour
// that continues it, exactly as written, and checks that the two homes
// converged and the views show what the README says.
func TestReadmeOfflineTour(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", readmeBlock(t, "offline-tour")+readmeBlock(t, "views-tour")+readmeBlock(t, "files-tour"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asCLI+"=1", "PATH="+binDir(t)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s", err, out)
	}
	var infos []map[string]any
	for _, h := range []string{"alice", "bob"} {
		r := must(t, hearsay(t, dir, nil, "--home", h, "group", "list", "--json"))
		var info map[string]any
		if err := json.Unmarshal([]byte(r), &info); err != nil {
			t.Fatalf("%s: %v: %q", h, err, r)
		}
		infos = append(infos, info)
	}
	if infos[1]["entries"] != float64(4) {
		t.Fatalf("bob holds %v entries after the tour:\n%s", infos[1]["entries"], out)
	}
	for _, want := range []string{"Answering myself", "p2p\n", "notes/todo\n", "put", "write the docs", "on 1 distinct peer;"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("the tour's output lacks %q:\n%s", want, out)
		}
	}
	// bob caught up before alice's set and dir entries; an export brings them.
	must(t, hearsay(t, dir, nil, "--home", "alice", "export", "demo", "-o", "more.export"))
	must(t, hearsay(t, dir, nil, "--home", "bob", "import", "more.export"))
	digests := map[string]string{}
	for _, h := range []string{"alice", "bob"} {
		var i map[string]any
		json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "--home", h, "group", "show", "demo", "--json"))), &i)
		digests[h] = i["digest"].(string)
	}
	if digests["alice"] != digests["bob"] {
		t.Fatalf("alice and bob differ: %v", digests)
	}
}

func TestCommandsPrintIDsAlone(t *testing.T) {
	dir := t.TempDir()
	author := must(t, hearsay(t, dir, nil, "--home", "h", "init"))
	if id := must(t, hearsay(t, dir, nil, "--home", "h", "id")); id != author || len(id) != 64 {
		t.Fatalf("id %q, init printed %q", id, author)
	}
	g := must(t, hearsay(t, dir, nil, "--home", "h", "group", "create", "demo", "--write", "owner"))
	p := must(t, hearsay(t, dir, []byte("from stdin\n"), "--home", "h", "post", g, "-"))
	if len(g) != 64 || len(p) != 64 {
		t.Fatalf("ids: %q %q", g, p)
	}
	line := must(t, hearsay(t, dir, nil, "--home", "h", "log", "demo", "--json", "--limit", "1"))
	var l map[string]any
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "group", "author", "seq", "hlc", "kind", "subject", "text", "reply_to"} {
		if _, ok := l[k]; !ok {
			t.Errorf("log --json lacks %q", k)
		}
	}
	if l["id"] != p || l["text"] != "from stdin\n" || l["seq"] != float64(2) {
		t.Fatalf("log --json: %v", l)
	}
	var show map[string]any
	json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "--home", "h", "group", "show", g[:8], "--json"))), &show)
	for _, k := range []string{"id", "name", "owner", "write", "read", "entries", "digest", "equivocators", "hidden_authors"} {
		if _, ok := show[k]; !ok {
			t.Errorf("group show --json lacks %q", k)
		}
	}
	if show["owner"] != author || show["write"] != "owner" || show["entries"] != float64(2) {
		t.Fatalf("group show: %v", show)
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "h", "init"))
	must(t, hearsay(t, dir, nil, "--home", "h", "group", "create", "demo"))
	os.WriteFile(filepath.Join(dir, "junk"), []byte("not an export"), 0o600)
	big := bytes.Repeat([]byte("x"), 70_000)
	for _, c := range []struct {
		stdin []byte
		args  []string
		want  string
	}{
		{nil, []string{"--home", "nowhere", "log", "demo"}, "no hearsay home at nowhere (run `hearsay init`)"},
		{nil, []string{"--home", "h", "log", "nosuch"}, `unknown group "nosuch"`},
		{nil, []string{"--home", "h", "post", "demo", "x", "--reply-to", "12ab"}, `malformed id "12ab"`},
		{nil, []string{"--home", "h", "post", "demo", "x", "--reply-to", strings.Repeat("ab", 32)}, "no such entry"},
		{big, []string{"--home", "h", "post", "demo", "-"}, `post of 70000 bytes: group "demo" takes bodies of at most 65536 bytes`},
		{nil, []string{"--home", "h", "group", "create", "x", "--write", "all"}, `write policy "all"`},
		{nil, []string{"--home", "h", "import", "junk"}, "not a hearsay export file"},
		{nil, []string{"--home", "h", "log"}, "usage: hearsay log GROUP"},
		{nil, []string{"--home", "h", "dir", "put", "demo", "a/../etc", "x"}, `path "a/../etc" has a ".." segment`},
		{nil, []string{"--home", "h", "dir", "put", "demo", "a//b", "x"}, "empty segment"},
		{nil, []string{"--home", "h", "dir", "get", "demo", "missing"}, `no such path "missing"`},
		{nil, []string{"--home", "h", "set", "add", "demo", "s", "a\x01b"}, "control character"},
		{nil, []string{"--home", "h", "thread", "demo", "abc"}, `malformed id "abc"`},
		{nil, []string{"--home", "h", "group", "member", "add", "demo", "nobody"}, `author: malformed id "nobody"`},
		{nil, []string{"--home", "h", "hide-author", "demo", "nobody"}, `author: malformed id "nobody"`},
		{nil, []string{"--home", "h", "unhide-author", "demo", strings.Repeat("ab", 32)}, "is not hidden"},
		{nil, []string{"--home", "h", "frobnicate"}, `unknown command "frobnicate"`},
	} {
		r := hearsay(t, dir, c.stdin, c.args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code == 0 || len(lines) != 1 || !strings.Contains(lines[0], c.want) || r.stdout != "" {
			t.Errorf("hearsay %s: exit %d, stderr %q, stdout %q; want one line with %q",
				strings.Join(c.args, " "), r.code, r.stderr, r.stdout, c.want)
		}
	}
	if n := must(t, hearsay(t, dir, nil, "--home", "h", "log", "demo")); strings.Count(n, "\n") != 0 {
		t.Fatalf("refused posts were stored:\n%s", n)
	}
}

func TestSecondProcessIsRefusedWhileStoreIsOpen(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "h", "init"))
	held, err := store.Open(filepath.Join(dir, "h", "store"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	r := hearsay(t, dir, nil, "--home", "h", "group", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "store is in use by another hearsay process") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestImportReportsCorruption(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo"))
	for _, text := range []string{"one", "two", "three"} {
		must(t, hearsay(t, dir, nil, "--home", "a", "post", g, text))
	}
	must(t, hearsay(t, dir, nil, "--home", "a", "export", g, "-o", "demo.export"))
	good, _ := os.ReadFile(filepath.Join(dir, "demo.export"))
	// A byte near the end: inside the last post's signature.
	bad := bytes.Clone(good)
	bad[len(bad)-10] ^= 0xff
	os.WriteFile(filepath.Join(dir, "bad.export"), bad, 0o600)
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	r := hearsay(t, dir, nil, "--home", "b", "import", "bad.export")
	if r.code != 1 || !strings.Contains(r.stderr, "bad signature") || !strings.Contains(r.stdout, "3 stored") {
		t.Fatalf("import of a corrupted file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(must(t, hearsay(t, dir, nil, "--home", "b", "log", g)), "\n"); n != 2 {
		t.Fatalf("want the genesis and two posts, got %d lines", n+1)
	}
	os.WriteFile(filepath.Join(dir, "short.export"), good[:len(good)-1], 0o600)
	r = hearsay(t, dir, nil, "--home", "b", "import", "short.export")
	if r.code != 1 || !strings.Contains(r.stderr, "truncated") {
		t.Fatalf("import of a truncated file: exit %d %s", r.code, r.stderr)
	}
	if r := hearsay(t, dir, good, "--home", "b", "import", "-"); r.code != 0 || !strings.Contains(r.stdout, "1 stored, 3 already held") {
		t.Fatalf("import from stdin: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestReadmeCorruptionRecipe runs the offline tour and then the README's
// corruption recipe, exactly as written: the damaged entry is refused with
// its byte offset, the other three are stored, and the import exits 1.
func TestReadmeCorruptionRecipe(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", readmeBlock(t, "offline-tour")+readmeBlock(t, "corruption-recipe"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asCLI+"=1", "PATH="+binDir(t)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the recipe failed: %v\n%s", err, out)
	}
	for _, want := range []string{"read 4 entries: 3 stored, 0 already held, 1 refused\n", "exit code 1\n"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("the recipe's output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`hearsay: import: refused entry [0-9a-f]{12} at byte [1-9][0-9]*: bad signature`).Match(out) {
		t.Fatalf("the damaged entry was not refused with its offset:\n%s", out)
	}
	log := must(t, hearsay(t, dir, nil, "--home", "carol", "log", "demo"))
	if n := strings.Count(log, "\n") + 1; n != 3 || !strings.Contains(log, "A second thought") || strings.Contains(log, "Answering myself") {
		t.Fatalf("carol holds %d entries, want the genesis and the first two posts:\n%s", n, log)
	}
}

// TestReadmePrivateTour runs the README's private-group tour and checks what
// each home can read.
func TestReadmePrivateTour(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", readmeBlock(t, "private-tour"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asCLI+"=1", "PATH="+binDir(t)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "is not a member of") || !strings.Contains(string(out), "refused: not a member yet") {
		t.Fatalf("the non-member's post was not refused with a clear message:\n%s", out)
	}
	g := must(t, hearsay(t, dir, nil, "--home", "owner", "group", "list", "--json"))
	var info map[string]any
	json.Unmarshal([]byte(g), &info)
	id := info["id"].(string)
	member := must(t, hearsay(t, dir, nil, "--home", "member", "log", id, "--all"))
	if !strings.Contains(member, "Welcome to the club") || !strings.Contains(member, "Glad to be here") || strings.Contains(member, "After the member left") {
		t.Fatalf("the member's log:\n%s", member)
	}
	outsider := must(t, hearsay(t, dir, nil, "--home", "outsider", "log", id, "--all"))
	for _, secret := range []string{"Welcome", "Glad", "club\n"} {
		if strings.Contains(outsider, secret) {
			t.Fatalf("the outsider's log shows %q:\n%s", secret, outsider)
		}
	}
	must(t, hearsay(t, dir, nil, "--home", "outsider", "import", "club.export"))
	digests := map[string]any{}
	for _, h := range []string{"owner", "outsider"} {
		var i map[string]any
		json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "--home", h, "group", "show", id, "--json"))), &i)
		digests[h] = i["digest"]
	}
	if digests["owner"] != digests["outsider"] {
		t.Fatalf("the outsider's entries differ from the owner's: %v", digests)
	}
}
