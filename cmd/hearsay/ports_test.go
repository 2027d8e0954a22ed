package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearsay/internal/home"
)

// TestOnePortOneNode: a node does not start on a listen port or an API
// address another node holds, and says which flag to change.
func TestOnePortOneNode(t *testing.T) {
	dir := t.TempDir()
	a := serve(t, dir, "--home", "a")
	running, ok := home.ReadRunning(filepath.Join(dir, "a"))
	if !ok {
		t.Fatal("no record of the serving node")
	}
	var tcp string
	for _, addr := range a.addrs {
		if strings.Contains(addr, "/tcp/") {
			tcp, _, _ = strings.Cut(addr, "/p2p/")
		}
	}
	api := strings.TrimPrefix(running.APIURL, "http://")
	for _, c := range []struct{ home, listen, api, want string }{
		{"b", tcp, "127.0.0.1:0", "hearsay: --listen " + tcp + ": bind: address already in use"},
		{"c", "/ip4/127.0.0.1/tcp/0", api, "hearsay: --api " + api + ": bind: address already in use"},
	} {
		// A serve that starts runs until killed: give it ten seconds to fail.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		exe, _ := os.Executable()
		cmd := exec.CommandContext(ctx, exe, "--home", c.home, "serve", "--listen", c.listen, "--api", c.api)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), asCLI+"=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		cancel()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.HasSuffix(stderr.String(), "\n"+c.want+"\n") {
			t.Fatalf("serve --listen %s --api %s beside a node: %v, %q; want %q", c.listen, c.api, err, stderr.String(), c.want)
		}
	}
}
