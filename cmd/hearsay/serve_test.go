package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hearsay/internal/node"
)

// serving is a `hearsay serve` process started by a test.
type serving struct {
	cmd    *exec.Cmd
	addrs  []string
	login  string // the one-time web UI login URL it printed
	nntp   string // the NNTP address it printed, with --nntp
	stderr lockedBuffer
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve starts `hearsay serve` in dir and waits (10 s at most) until it
// prints its addresses. The process is stopped when the test ends.
func serve(t *testing.T, dir string, args ...string) *serving {
	t.Helper()
	exe, _ := os.Executable()
	return startServing(t, exec.Command(exe, append([]string{"serve", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"}, args...)...), dir)
}

// startServing starts cmd, a `hearsay serve` (perhaps inside a network
// namespace), as serve does.
func startServing(t *testing.T, cmd *exec.Cmd, dir string) *serving {
	t.Helper()
	s := &serving{cmd: cmd}
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(), asCLI+"=1")
	s.cmd.Stderr = &s.stderr
	out, _ := s.cmd.StdoutPipe()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve ended before listening: %s", s.stderr.String())
			}
			if a, found := strings.CutPrefix(l, "listening on "); found {
				s.addrs = append(s.addrs, a)
			}
			if a, found := strings.CutPrefix(l, "nntp "); found {
				s.nntp, _, _ = strings.Cut(a, " ")
			}
			if u, found := strings.CutPrefix(l, "web UI: open "); found { // the last line it prints
				s.login = u
				go func() {
					for range lines {
					}
				}()
				return s
			}
		case <-deadline:
			t.Fatal("serve printed no address within 10 s")
		}
	}
}

// stop interrupts the node and waits for a clean exit.
func (s *serving) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve did not stop cleanly: %v\n%s", err, s.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10 s of SIGINT")
	}
}

// TestServeJoinAndPush: A serves its group; B joins it over libp2p, writes,
// then serves with A as bootstrap and pushes its post to A.
func TestServeJoinAndPush(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "hello over libp2p"))
	a := serve(t, dir, "--home", "a")
	if r := hearsay(t, dir, nil, "--home", "a", "serve", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"); r.code != 1 || !strings.Contains(r.stderr, "already serves") {
		t.Fatalf("a second serve on the same home: exit %d, %q", r.code, r.stderr)
	}
	// While A serves, its commands go through its API, unchanged.
	must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "posted while serving"))
	if r := hearsay(t, dir, nil, "--home", "a", "log", "nosuch"); r.code != 1 || !strings.Contains(r.stderr, `unknown group "nosuch"`) {
		t.Fatalf("an error through the API: exit %d, %q", r.code, r.stderr)
	}

	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	if got := must(t, hearsay(t, dir, nil, "--home", "b", "group", "join", g, "--peer", a.addrs[0])); got != g {
		t.Fatalf("join printed %q", got)
	}
	if log := must(t, hearsay(t, dir, nil, "--home", "b", "log", g)); !strings.Contains(log, "hello over libp2p") || !strings.Contains(log, "posted while serving") {
		t.Fatalf("b's log after joining:\n%s", log)
	}
	var st node.Status
	if err := json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "--home", "a", "status", "--json"))), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Running || !strings.HasPrefix(st.APIURL, "http://127.0.0.1:") || !strings.HasPrefix(st.UIURL, st.APIURL+"/login?token=") || len(st.Addrs) == 0 || !strings.HasSuffix(st.Addrs[0], "/p2p/"+st.PeerID) ||
		len(st.Groups) != 1 || st.Groups[0].Entries != 3 || st.Groups[0].LastSync == "" {
		t.Fatalf("status: %+v", st)
	}
	reply := must(t, hearsay(t, dir, nil, "--home", "b", "post", g, "reply from b"))
	b := serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])
	// Either side may move it: b greets a and pushes, or a greets b and pulls.
	eventually(t, 10*time.Second, "b's post reaching a", func() bool {
		return strings.Contains(hearsay(t, dir, nil, "--home", "a", "log", g).stdout, reply[:12])
	})
	// Serving, b and a are neighbours in the group's overlay, and a has
	// measured the round trip to b (over loopback: under 50 ms).
	eventually(t, 10*time.Second, "a and b measured neighbours", func() bool {
		var st node.Status
		json.Unmarshal([]byte(hearsay(t, dir, nil, "--home", "a", "status", "--json").stdout), &st)
		return len(st.Groups) == 1 && len(st.Groups[0].Neighbours) == 1 && st.Groups[0].NeighbourRTTMS > 0 && st.Groups[0].NeighbourRTTMS < 50
	})
	peers := must(t, hearsay(t, dir, nil, "--home", "b", "peers", "--json"))
	if !strings.Contains(peers, a.addrs[0][strings.LastIndex(a.addrs[0], "/")+1:]) || !strings.Contains(peers, g) {
		t.Fatalf("b's peers do not show a and the group: %s", peers)
	}
	a.stop(t)
	b.stop(t)
	var digests []string
	for _, h := range []string{"a", "b"} {
		var info map[string]any
		json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "--home", h, "group", "show", g, "--json"))), &info)
		digests = append(digests, info["digest"].(string))
	}
	if digests[0] != digests[1] {
		t.Fatalf("a and b differ: %v", digests)
	}
}
