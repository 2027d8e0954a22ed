package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDevnet starts a devnet of three nodes, posts on one and reads it on
// another, then stops them all with one SIGINT.
func TestDevnet(t *testing.T) {
	dir := t.TempDir()
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "devnet", "-n", "3", "--dir", dir)
	cmd.Env = append(os.Environ(), asCLI+"=1")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	homes := map[string]string{}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) > 2 && strings.HasPrefix(f[0], "node") && f[1] == "home" {
				homes[f[0]] = f[2]
			}
			if strings.HasPrefix(sc.Text(), "Ctrl-C") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("the devnet did not come up within 30 s: %s", stderr.String())
	}
	post := must(t, hearsay(t, dir, nil, "--home", homes["node2"], "post", "demo", "hello devnet"))
	eventually(t, 10*time.Second, "node2's post reaching node3", func() bool {
		return strings.Contains(hearsay(t, dir, nil, "--home", homes["node3"], "log", "demo").stdout, post[:12])
	})
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("devnet did not stop cleanly: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("devnet did not stop within 10 s of SIGINT")
	}
}
