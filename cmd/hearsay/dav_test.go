package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"hearsay/internal/home"
)

// needProgram finds an external program a test drives. A missing one fails
// the test, never skips it: CI installs them (.ci/run).
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed, and this test runs it: apt-get install -y %s (.ci/run does)", name, name)
	}
	return p
}

// servedAPI is the API URL and token of the node serving a home.
func servedAPI(t *testing.T, homeDir string) (url, token string) {
	t.Helper()
	r, ok := home.ReadRunning(homeDir)
	if !ok {
		t.Fatalf("no node.json in %s", homeDir)
	}
	token, err := home.ReadToken(homeDir)
	if err != nil {
		t.Fatal(err)
	}
	return r.APIURL, token
}

// TestFolderViewWithRclone: rclone, a real WebDAV client, lists, reads,
// writes, moves and deletes a group's directory through a serving node;
// the CLI sees every change as a version. Then /metrics shows those
// requests, to a scraper that holds the token.
func TestFolderViewWithRclone(t *testing.T) {
	rclone := needProgram(t, "rclone")
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo"))
	must(t, hearsay(t, dir, nil, "--home", "a", "dir", "put", g, "notes/todo", "write the docs"))
	serve(t, dir, "--home", "a")
	url, token := servedAPI(t, filepath.Join(dir, "a"))

	obscured, err := exec.Command(rclone, "obscure", token).Output()
	if err != nil {
		t.Fatal(err)
	}
	rc := func(pass string, stdin string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(rclone, append([]string{"--config", filepath.Join(dir, "rclone.conf"),
			"--webdav-url", url + "/dav/", "--webdav-user", "anyone", "--webdav-pass", pass,
			"--retries", "1", "--low-level-retries", "1"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
		cmd.Stdin = strings.NewReader(stdin)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			err = &rcloneError{err, errb.String()}
		}
		return string(out), err
	}
	pass := strings.TrimSpace(string(obscured))
	ok := func(stdin string, args ...string) string {
		t.Helper()
		out, err := rc(pass, stdin, args...)
		if err != nil {
			t.Fatalf("rclone %v: %v", args, err)
		}
		return out
	}
	top := ":webdav:demo-" + g[:12]

	if got := ok("", "lsf", ":webdav:"); got != "demo-"+g[:12]+"/\n" {
		t.Fatalf("the root lists %q", got)
	}
	if got := ok("", "cat", top+"/notes/todo"); got != "write the docs" {
		t.Fatalf("cat: %q", got)
	}
	ok("from rclone", "rcat", top+"/notes/new.txt")
	if got := must(t, hearsay(t, dir, nil, "--home", "a", "dir", "get", g, "notes/new.txt")); got != "from rclone" {
		t.Fatalf("dir get after rcat: %q", got)
	}
	local := filepath.Join(dir, "local.txt")
	os.WriteFile(local, []byte("a local file"), 0o644)
	ok("", "copyto", local, top+"/docs/deep/local.txt") // rclone makes the folders first
	lines := strings.Fields(ok("", "lsf", "-R", top))
	slices.Sort(lines)
	if got := strings.Join(lines, " "); got != "docs/ docs/deep/ docs/deep/local.txt notes/ notes/new.txt notes/todo" {
		t.Fatalf("lsf -R: %s", got)
	}

	ok("", "deletefile", top+"/notes/todo")
	if r := hearsay(t, dir, nil, "--home", "a", "dir", "get", g, "notes/todo"); r.code != 1 {
		t.Fatalf("dir get of a deleted file: exit %d, %q", r.code, r.stdout)
	}
	if h := must(t, hearsay(t, dir, nil, "--home", "a", "dir", "history", g, "notes/todo")); strings.Count(h, "\n") != 1 || !strings.Contains(h, "rm") {
		t.Fatalf("history of a deleted file, a tombstone over the put:\n%s", h)
	}
	ok("", "moveto", top+"/notes/new.txt", top+"/moved.txt")
	if got := must(t, hearsay(t, dir, nil, "--home", "a", "dir", "get", g, "moved.txt")); got != "from rclone" {
		t.Fatalf("dir get after moveto: %q", got)
	}
	if got := ok("", "lsf", top+"/notes"); got != "" {
		t.Fatalf("the folder a move emptied lists %q", got)
	}
	if _, err := rc("wrong", "", "lsf", ":webdav:"); err == nil {
		t.Fatal("rclone listed the folders with a wrong password")
	}

	get := func(auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without the token: %d", code)
	}
	code, body := get("Bearer " + token)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	for _, want := range []string{`hearsay_entries_stored_total{source="own"} `, `hearsay_api_request_duration_seconds_count{method="PUT",route="/dav/"} `,
		`hearsay_api_request_duration_seconds_count{method="POST",route="/api/v1/exec"} `, `hearsay_group_entries{group="` + g + `",name="demo"} `} {
		if !strings.Contains(body, want) {
			t.Fatalf("/metrics has no %s…:\n%s", want, body)
		}
	}
}

type rcloneError struct {
	err    error
	stderr string
}

func (e *rcloneError) Error() string { return e.err.Error() + ": " + e.stderr }

// TestLitmus runs the litmus WebDAV test suites against a serving node, as
// docs/webdav.md reports them: every basic and copymove test passes.
func TestLitmus(t *testing.T) {
	litmus := needProgram(t, "litmus")
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "litmus"))
	serve(t, dir, "--home", "a")
	url, token := servedAPI(t, filepath.Join(dir, "a"))
	cmd := exec.Command(litmus, "--keep-going", url+"/dav/litmus-"+g[:12]+"/", "anyone", token)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TESTS=basic copymove props locks http")
	out, _ := cmd.CombinedOutput() // its exit code counts the failures we expect
	t.Logf("litmus:\n%s", out)
	for suite, n := range map[string]string{"basic": "16", "copymove": "13", "http": "4"} {
		want := "summary for `" + suite + "': of " + n + " tests run: " + n + " passed"
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q in the output", want)
		}
	}
	if !regexp.MustCompile("summary for `props'").Match(out) || !regexp.MustCompile("summary for `locks'").Match(out) {
		t.Error("the props or locks suite did not finish")
	}
}

// TestLargeFileWithRcloneAndCurl: rclone copies a 100 MiB file into a group
// folder, where it becomes a large file coded into shards on two nodes,
// and back with identical bytes; curl reads a range of it.
func TestLargeFileWithRcloneAndCurl(t *testing.T) {
	rclone, curl := needProgram(t, "rclone"), needProgram(t, "curl")
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "media", "--write", "open"))
	a := serve(t, dir, "--home", "a")
	b := joinAndServe(t, dir, "b", g, a.addrs[0])
	url, token := servedAPI(t, filepath.Join(dir, "a"))
	obscured, err := exec.Command(rclone, "obscure", token).Output()
	if err != nil {
		t.Fatal(err)
	}
	rc := func(args ...string) {
		t.Helper()
		cmd := exec.Command(rclone, append([]string{"--config", filepath.Join(dir, "rclone.conf"),
			"--webdav-url", url + "/dav/", "--webdav-user", "anyone", "--webdav-pass", strings.TrimSpace(string(obscured)),
			"--retries", "1", "--low-level-retries", "1"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rclone %v: %v: %s", args, err, out)
		}
	}
	src := filepath.Join(dir, "video.bin")
	want := writeRandom(t, src, 100<<20, 7)
	top := ":webdav:media-" + g[:12]
	rc("copyto", src, top+"/videos/video.bin")
	st, ok := fileStatus(t, dir, "a", g, "videos/video.bin")
	if !ok || st.Size != 100<<20 || len(st.Holders) != 2 {
		t.Fatalf("the copied file: %+v", st)
	}
	back := filepath.Join(dir, "back.bin")
	rc("copyto", top+"/videos/video.bin", back)
	if sha256File(t, back) != want {
		t.Fatal("the file rclone copied back differs")
	}
	out, err := exec.Command(curl, "-sf", "-u", "any:"+token, "-r", "50000000-50000999", url+"/dav/media-"+g[:12]+"/videos/video.bin").Output()
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := os.ReadFile(src)
	if !bytes.Equal(out, whole[50000000:50001000]) {
		t.Fatalf("curl -r read %d bytes, not the range", len(out))
	}
	a.stop(t)
	b.stop(t)
}
