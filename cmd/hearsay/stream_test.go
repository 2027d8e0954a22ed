package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearsay/internal/api"
	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/store"
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

// peakOf runs the command like hearsay under /usr/bin/time and reports its
// peak RSS in MiB. (The rusage of a child of this process would count
// what this process held when it forked, which after writing a gigabyte
// is more than the command's own.)
func peakOf(t *testing.T, dir string, args ...string) int {
	t.Helper()
	exe, _ := os.Executable()
	report := filepath.Join(t.TempDir(), "peak")
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", report, exe}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asCLI+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v: %s", args, err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("/usr/bin/time said %q", b)
	}
	return kb >> 10
}

var streamGiB = flag.Bool("stream.gib", false, "run TestExportGigabyteThroughNode: import and export 1 GB through a serving node, reporting peak memory")

// TestExportGigabyteThroughNode (behind -stream.gib): a 1 GB export file
// imported into a serving node and exported from it, each process under
// 256 MiB at its peak; the export comes back byte for byte.
func TestExportGigabyteThroughNode(t *testing.T) {
	if !*streamGiB {
		t.Skip("a 1 GB import and export: run with -stream.gib (docs/reliability.md)")
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Fatal("this test measures with /usr/bin/time: apt-get install time")
	}
	dir := t.TempDir()
	h, _, err := home.Init(filepath.Join(dir, "src"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(h, store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The default quota admits 64 MiB a day: this group has none.
	g, err := n.CreateGroup(group.Genesis{Name: "big", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.Quota{MaxBody: entry.MaxBody}})
	if err != nil {
		t.Fatal(err)
	}
	value := make([]byte, entry.MaxBody-2<<10)
	for i := range 4200 { // 4,200 × 253 KiB: just over 1 GB
		rand.Read(value)
		if _, err := n.DirPut(g, fmt.Sprintf("f/%d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(dir, "big.export"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Export(g, f); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(f.Close(), n.Close()); err != nil {
		t.Fatal(err)
	}

	must(t, hearsay(t, dir, nil, "--home", "dst", "init"))
	s := serve(t, dir, "--home", "dst")
	start := time.Now()
	cliImport := peakOf(t, dir, "--home", "dst", "import", "big.export")
	took := time.Since(start)
	nodeImport := vmHWM(t, s.cmd.Process.Pid)
	s.stop(t)
	s = serve(t, dir, "--home", "dst")
	start = time.Now()
	cliExport := peakOf(t, dir, "--home", "dst", "export", "big", "-o", "out.export")
	t.Logf("import: %v; node %d MiB, CLI %d MiB. export: %v; node %d MiB, CLI %d MiB",
		took, nodeImport, cliImport, time.Since(start), vmHWM(t, s.cmd.Process.Pid), cliExport)
	for _, peak := range []int{nodeImport, cliImport, vmHWM(t, s.cmd.Process.Pid), cliExport} {
		if peak >= 256 {
			t.Errorf("a process peaked at %d MiB", peak)
		}
	}
	s.stop(t)
	if sha256File(t, filepath.Join(dir, "big.export")) != sha256File(t, filepath.Join(dir, "out.export")) {
		t.Fatal("the export through the node differs from the file imported")
	}
}
