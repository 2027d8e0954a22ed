package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hearsay/internal/api"
	"hearsay/internal/home"
)

// TestImportExportStreamThroughNode: while a node serves, import and
// export stream through its REST routes (not inside an exec request, which
// holds the file whole on both sides), and the exec bridge opens no paths
// on the node for a client.
func TestImportExportStreamThroughNode(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "create", "other", "--write", "open"))
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<10) // 48 KiB values
	for range 5 {
		must(t, hearsay(t, dir, big, "--home", "b", "dir", "put", "other", "blob", "-"))
	}
	must(t, hearsay(t, dir, nil, "--home", "b", "export", "other", "-o", "b.export"))

	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	serve(t, dir, "--home", "a")
	if got := must(t, hearsay(t, dir, nil, "--home", "a", "import", "b.export")); got != "read 6 entries: 6 stored, 0 already held, 0 refused" {
		t.Fatalf("import through the node: %q", got)
	}
	file := hearsay(t, dir, nil, "--home", "a", "export", "other", "-o", "a.export")
	stdout := hearsay(t, dir, nil, "--home", "a", "export", "other")
	if file.code != 0 || !strings.Contains(file.stderr, "exported 6 entries of other to a.export") || stdout.code != 0 {
		t.Fatalf("export through the node: %+v, %d %s", file, stdout.code, stdout.stderr)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "b.export"))
	got, _ := os.ReadFile(filepath.Join(dir, "a.export"))
	if !bytes.Equal(got, want) || stdout.stdout != string(want) {
		t.Fatalf("exports of %d and %d bytes, want %d", len(got), len(stdout.stdout), len(want))
	}
	if r := hearsay(t, dir, nil, "--home", "a", "export", "nosuch"); r.code != 1 || !strings.Contains(r.stderr, `unknown group "nosuch"`) {
		t.Fatalf("export of an unknown group: %+v", r)
	}

	running, _ := home.ReadRunning(filepath.Join(dir, "a"))
	token, _ := home.ReadToken(filepath.Join(dir, "a"))
	client := &api.Client{URL: running.APIURL, Token: token}
	resp, err := client.Stream(context.Background(), http.MethodGet, "/metrics", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, route := range []string{`route="/api/v1/import"`, `route="/api/v1/groups/{group}/export"`} {
		if !regexp.MustCompile(`hearsay_api_request_duration_seconds_count\{[^}]*` + regexp.QuoteMeta(route)).Match(metrics) {
			t.Fatalf("no request to %s", route)
		}
	}
	if regexp.MustCompile(`hearsay_api_request_duration_seconds_count\{[^}]*route="/api/v1/exec"`).Match(metrics) {
		t.Fatal("an import or export went through exec")
	}

	for _, args := range [][]string{{"export", "other", "-o", filepath.Join(dir, "written-by-node")}, {"import", filepath.Join(dir, "b.export")}} {
		res, err := client.Exec(context.Background(), args, nil)
		if err != nil || res.Code != 1 || !strings.Contains(string(res.Stderr), "opens no paths") {
			t.Fatalf("exec %q: %+v, %v", args, res, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "written-by-node")); err == nil {
		t.Fatal("the node wrote a path a client named")
	}
}
