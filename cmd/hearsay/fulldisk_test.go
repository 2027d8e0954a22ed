package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var fullDisk = flag.Bool("disk.full", false, "run TestFullDisk: a node fills an 8 MiB tmpfs (needs root)")

// TestFullDisk: a node whose home is on a small tmpfs (8 MiB, mounted by
// the test in its temp dir; it needs root) is given 60 KB posts until the
// disk is full. Every refused post is one line on standard error and a
// non-zero exit; the home, copied to a larger disk, opens and holds every
// acknowledged post exactly once, with its count and log agreeing, and
// takes posts again.
func TestFullDisk(t *testing.T) {
	if !*fullDisk {
		t.Skip("a known defect: a node's writes can stall for good on a full disk (seen under -race), so this runs with -disk.full")
	}
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk")
	if err := os.Mkdir(disk, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Fatalf("TestFullDisk mounts a tmpfs and needs root: mount: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", disk).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", disk, err, out)
		}
	})
	must(t, hearsay(t, disk, nil, "--home", "a", "init"))
	demo := must(t, hearsay(t, disk, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	a := serve(t, disk, "--home", "a")

	acked := map[string]string{} // id → text
	refused, died, stopErr := 0, false, error(nil)
	for i := 0; refused < 5; i++ {
		if i > 1000 {
			t.Fatal("1,000 posts of 60 KB fitted on an 8 MiB disk")
		}
		text := fmt.Sprintf("%06d %s", i, strings.Repeat("x", 60_000))
		r := postWithin(t, 30*time.Second, disk, text)
		if r.code == 0 {
			acked[strings.TrimSpace(r.stdout)] = text
			continue
		}
		refused++
		if msg := strings.TrimSpace(r.stderr); msg == "" || strings.Contains(msg, "\n") {
			t.Fatalf("a post on a full disk: exit %d, stderr not one line:\n%s", r.code, r.stderr)
		}
		if refused == 1 {
			t.Logf("after %d posts: exit %d, %s", len(acked), r.code, strings.TrimSpace(r.stderr))
		}
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", a.cmd.Process.Pid)); err != nil || strings.Contains(string(stat), ") Z ") {
			died = true // it exited (a zombie until waited for)
		}
	}
	a.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		stopErr = err
	case <-time.After(10 * time.Second):
		t.Fatal("the node on the full disk did not stop within 10 s of SIGINT")
	}

	big := filepath.Join(dir, "big")
	if out, err := exec.Command("cp", "-a", disk, big).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	os.Remove(filepath.Join(big, "a", "node.json"))
	texts := map[string]int{}
	held := map[string]string{}
	lines := strings.Split(must(t, hearsay(t, big, nil, "--home", "a", "log", demo, "--json")), "\n")
	for _, l := range lines {
		var e struct{ ID, Kind, Text string }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("log: %q: %v", l, err)
		}
		if e.Kind == "post" {
			held[e.ID] = e.Text
			texts[e.Text]++
		}
	}
	lost, duplicated := 0, 0
	for id, text := range acked {
		if held[id] != text {
			lost++
		}
	}
	for _, n := range texts {
		if n > 1 {
			duplicated++
		}
	}
	var info struct{ Entries int }
	json.Unmarshal([]byte(must(t, hearsay(t, big, nil, "--home", "a", "group", "show", demo, "--json"))), &info)
	if info.Entries != len(lines) {
		t.Errorf("after the full disk: group show counts %d entries, the log has %d", info.Entries, len(lines))
	}
	must(t, hearsay(t, big, nil, "--home", "a", "post", "demo", "after the disk was freed"))
	t.Logf("8 MiB tmpfs: %d posts of 60 KB acknowledged, then %d refused, each in one line; the node died: %v; stopped with SIGINT: %v; copied to a larger disk: %d held, lost %d, duplicated %d",
		len(acked), refused, died, stopErr, len(held), lost, duplicated)
	if died {
		t.Fatalf("the node died on the full disk: %s", tail(a.stderr.String(), 2000))
	}
	if lost != 0 || duplicated != 0 {
		t.Fatalf("lost %d, duplicated %d acknowledged posts", lost, duplicated)
	}
}

// postWithin posts text to demo through home a in dir, failing the test
// if the command has not ended within limit.
func postWithin(t *testing.T, limit time.Duration, dir, text string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	exe, _ := os.Executable()
	cmd := exec.CommandContext(ctx, exe, "--home", "a", "post", "demo", text)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asCLI+"=1", "HEARSAY_HOME="+filepath.Join(dir, "default-home"))
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second // its output pipes too
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("a post on a filling disk did not end within %v", limit)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
