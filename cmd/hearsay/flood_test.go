package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearsay/internal/api"
	"hearsay/internal/home"
)

// TestFloodHoldsNoFileDescriptors: a flood of connections that never send
// a request holds no more of a serving node's file descriptors than the
// API's limit, and once the flood stops, the node answers.
func TestFloodHoldsNoFileDescriptors(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo"))
	s := serve(t, dir, "--home", "a")
	running, _ := home.ReadRunning(filepath.Join(dir, "a"))
	fds := func() int {
		entries, _ := os.ReadDir("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/fd")
		return len(entries)
	}
	before := fds()
	flood := api.DefaultLimits.MaxConns + 300
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range flood {
		c, err := net.Dial("tcp", strings.TrimPrefix(running.APIURL, "http://"))
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	time.Sleep(500 * time.Millisecond) // the node accepts what it will
	if held := fds() - before; held > api.DefaultLimits.MaxConns+10 {
		t.Fatalf("%d silent connections hold %d of the node's file descriptors, the limit is %d", flood, held, api.DefaultLimits.MaxConns)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	if got := must(t, hearsay(t, dir, nil, "--home", "a", "group", "list")); !strings.Contains(got, "demo") {
		t.Fatalf("after the flood: %q", got)
	}
}
