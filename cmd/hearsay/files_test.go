package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hearsay/internal/node"
)

var filesSize = flag.Int("files.size", 16<<20, "bytes of the file TestFileSurvivesLosingHolders puts (the acceptance run: 268435456)")

// fileStatus reads `file status --json` of a home.
func fileStatus(t *testing.T, dir, h, g, path string) (node.FileStatus, bool) {
	t.Helper()
	r := hearsay(t, dir, nil, "--home", h, "file", "status", g, path, "--json")
	var st node.FileStatus
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
		return st, false
	}
	return st, true
}

// peerOf is the peer id at the end of a serving node's first address.
func peerOf(s *serving) string { return s.addrs[0][strings.LastIndex(s.addrs[0], "/")+1:] }

// writeRandom writes n random bytes (seeded) to path and returns their SHA-256.
func writeRandom(t *testing.T, path string, n int, seed uint64) [32]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for left := n; left > 0; left -= len(buf) {
		for i := 0; i < len(buf); i += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				buf[i+k] = byte(v >> (8 * k))
			}
		}
		chunk := buf[:min(len(buf), left)]
		f.Write(chunk)
		h.Write(chunk)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func sha256File(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestFileSurvivesLosingHolders: twelve serving nodes in one group; a file
// put with k=4, m=4 lands on 8 distinct peers; 4 holders are killed with
// SIGKILL; a node that holds nothing gets the file back, byte for byte;
// repair makes it healthy again on the survivors.
func TestFileSurvivesLosingHolders(t *testing.T) {
	dir := t.TempDir()
	homes := []string{"a"}
	for i := 1; i < 12; i++ {
		homes = append(homes, fmt.Sprintf("n%02d", i))
	}
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "media", "--write", "open"))
	must(t, hearsay(t, dir, nil, "--home", "a", "storage", "limits", "--repair-every", "2"))
	nodes := map[string]*serving{"a": serve(t, dir, "--home", "a")}
	for _, h := range homes[1:] {
		must(t, hearsay(t, dir, nil, "--home", h, "init"))
		must(t, hearsay(t, dir, nil, "--home", h, "storage", "limits", "--repair-every", "2"))
		must(t, hearsay(t, dir, nil, "--home", h, "group", "join", g, "--peer", nodes["a"].addrs[0]))
		nodes[h] = serve(t, dir, "--home", h, "--bootstrap", nodes["a"].addrs[0])
	}
	byPeer := map[string]string{}
	for h, s := range nodes {
		byPeer[peerOf(s)] = h
	}
	eventually(t, 30*time.Second, "a meeting the other eleven", func() bool {
		var peers []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(hearsay(t, dir, nil, "--home", "a", "peers", "--json").stdout), "\n") {
			var p map[string]any
			if json.Unmarshal([]byte(l), &p) == nil {
				peers = append(peers, p)
			}
		}
		return len(peers) >= 11
	})

	want := writeRandom(t, filepath.Join(dir, "video.bin"), *filesSize, 1)
	start := time.Now()
	must(t, hearsay(t, dir, nil, "--home", "a", "file", "put", g, "videos/big.bin", filepath.Join(dir, "video.bin"), "--k", "4", "--m", "4"))
	t.Logf("put of %d MiB: %v", *filesSize>>20, time.Since(start))
	st, ok := fileStatus(t, dir, "a", g, "videos/big.bin")
	if !ok || len(st.Holders) < 8 || !st.Healthy {
		t.Fatalf("after the put: %+v", st)
	}

	var getter string
	var holders []string
	for _, p := range st.Holders {
		holders = append(holders, byPeer[p])
	}
	for _, h := range homes {
		if !slices.Contains(holders, h) {
			getter = h
		}
	}
	if getter == "" {
		t.Fatal("every node holds a shard")
	}
	killed := 0
	for _, h := range holders {
		if killed == 4 || h == "a" {
			continue
		}
		nodes[h].cmd.Process.Signal(syscall.SIGKILL)
		nodes[h].cmd.Wait()
		delete(nodes, h)
		killed++
	}
	t.Logf("killed 4 of the %d holders; %s, which holds nothing, gets the file", len(holders), getter)

	start = time.Now()
	out := filepath.Join(dir, "got.bin")
	must(t, hearsay(t, dir, nil, "--home", getter, "file", "get", g, "videos/big.bin", "-o", out))
	t.Logf("get: %v", time.Since(start))
	if sha256File(t, out) != want {
		t.Fatal("the file got back differs from the one put")
	}
	// A get that was cut short resumes from the whole segments it has.
	got, _ := os.ReadFile(out)
	resumed := filepath.Join(dir, "resumed.bin")
	os.WriteFile(resumed+".part", append(got[:3<<20:3<<20], 9, 9, 9), 0o644)
	must(t, hearsay(t, dir, nil, "--home", getter, "file", "get", g, "videos/big.bin", "-o", resumed))
	if sha256File(t, resumed) != want {
		t.Fatal("a resumed get differs from the file put")
	}

	start = time.Now()
	eventually(t, 120*time.Second, "repair making the file healthy on the survivors", func() bool {
		st, ok := fileStatus(t, dir, getter, g, "videos/big.bin")
		return ok && st.Healthy && len(st.Holders) >= 8
	})
	t.Logf("repaired to healthy in %v", time.Since(start))
	for _, s := range nodes {
		s.stop(t)
	}
}

// TestFileOffline: without a serving node, put keeps every shard here,
// get reads them back, status says the file is not safe, and a get that
// lacks shards says what it needs.
func TestFileOffline(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "notes"))
	want := writeRandom(t, filepath.Join(dir, "f.bin"), 3<<20+17, 2)
	id := must(t, hearsay(t, dir, nil, "--home", "a", "file", "put", g, "f.bin", filepath.Join(dir, "f.bin")))
	if again := must(t, hearsay(t, dir, nil, "--home", "a", "file", "put", g, "f.bin", filepath.Join(dir, "f.bin"))); again != id {
		t.Fatalf("putting the same bytes again wrote version %s after %s", again, id)
	}
	must(t, hearsay(t, dir, nil, "--home", "a", "file", "get", g, "f.bin", "-o", filepath.Join(dir, "back.bin")))
	if sha256File(t, filepath.Join(dir, "back.bin")) != want {
		t.Fatal("the file read back differs")
	}
	st, ok := fileStatus(t, dir, "a", g, "f.bin")
	if !ok || st.Healthy || !st.Readable || st.K != 3 || st.M != 7 || st.Size != 3<<20+17 || st.Note == "" {
		t.Fatalf("status of a file on one node: %+v", st)
	}
	ls := must(t, hearsay(t, dir, nil, "--home", "a", "file", "ls", g))
	if !strings.HasPrefix(ls, "f.bin\t3145745\t3+7\t") {
		t.Fatalf("file ls: %q", ls)
	}
	// A get that resumes: a part file with a good first segment and junk after.
	part := filepath.Join(dir, "resumed.bin.part")
	back, _ := os.ReadFile(filepath.Join(dir, "back.bin"))
	os.WriteFile(part, append(bytes.Clone(back[:1<<20]), 1, 2, 3), 0o644)
	must(t, hearsay(t, dir, nil, "--home", "a", "file", "get", g, "f.bin", "-o", filepath.Join(dir, "resumed.bin")))
	if sha256File(t, filepath.Join(dir, "resumed.bin")) != want {
		t.Fatal("a resumed get differs")
	}
	// Drop the shards: the get says what it would need.
	os.RemoveAll(filepath.Join(dir, "a", "shards"))
	r := hearsay(t, dir, nil, "--home", "a", "file", "get", g, "f.bin", "-o", filepath.Join(dir, "none.bin"))
	if r.code == 0 || !strings.Contains(r.stderr, "hearsay serve") {
		t.Fatalf("a get with no shards: exit %d, %q", r.code, r.stderr)
	}
	for _, bad := range [][]string{{"--ratio", "-1"}, {"--quota", "-5"}, {"--repair-slack", "2"}} {
		if r := hearsay(t, dir, nil, append([]string{"--home", "a", "storage", "limits"}, bad...)...); r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("storage limits %v: exit %d, %q", bad, r.code, r.stderr)
		}
	}
	if r := hearsay(t, dir, nil, "--home", "a", "file", "put", g, "x", filepath.Join(dir, "missing")); r.code == 0 {
		t.Fatal("put of a missing file succeeded")
	}
	if r := hearsay(t, dir, nil, "--home", "a", "file", "put", g, "y", filepath.Join(dir, "f.bin"), "--k", "200", "--m", "100"); r.code == 0 || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("k+m over 256: exit %d, %q", r.code, r.stderr)
	}
}

// storageOf reads `storage --json` of a home.
func storageOf(t *testing.T, dir, h string) node.StorageReport {
	t.Helper()
	var rep node.StorageReport
	if err := json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "--home", h, "storage", "--json"))), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// fileCluster starts n serving nodes in one open group, a first; each runs
// audits and repair rounds every second or two, and repairs any loss.
func fileCluster(t *testing.T, dir string, n int, limits ...string) (g string, homes []string, nodes map[string]*serving) {
	t.Helper()
	nodes = map[string]*serving{}
	for i := range n {
		h := fmt.Sprintf("n%d", i)
		homes = append(homes, h)
		must(t, hearsay(t, dir, nil, "--home", h, "init"))
		must(t, hearsay(t, dir, nil, append([]string{"--home", h, "storage", "limits", "--repair-every", "2", "--audit-every", "1", "--repair-slack", "0"}, limits...)...))
		if i == 0 {
			g = must(t, hearsay(t, dir, nil, "--home", h, "group", "create", "media", "--write", "open"))
			nodes[h] = serve(t, dir, "--home", h)
			continue
		}
		must(t, hearsay(t, dir, nil, "--home", h, "group", "join", g, "--peer", nodes["n0"].addrs[0]))
		nodes[h] = serve(t, dir, "--home", h, "--bootstrap", nodes["n0"].addrs[0])
	}
	eventually(t, 30*time.Second, "n0 meeting the others", func() bool {
		out := strings.TrimSpace(hearsay(t, dir, nil, "--home", "n0", "peers", "--json").stdout)
		return strings.Count(out, "\n")+1 >= n-1
	})
	return g, homes, nodes
}

// TestHolderThatDiscardsIsCaught: a holder loses every shard it accepted
// while it runs; audits catch it, it loses its credit and is given no new
// shards, and its shards are repaired elsewhere.
func TestHolderThatDiscardsIsCaught(t *testing.T) {
	dir := t.TempDir()
	g, homes, nodes := fileCluster(t, dir, 6)
	writeRandom(t, filepath.Join(dir, "f.bin"), 4<<20, 3)
	must(t, hearsay(t, dir, nil, "--home", "n0", "file", "put", g, "f.bin", filepath.Join(dir, "f.bin"), "--k", "2", "--m", "2"))
	st, _ := fileStatus(t, dir, "n0", g, "f.bin")
	byPeer := map[string]string{}
	for h, s := range nodes {
		byPeer[peerOf(s)] = h
	}
	var victim, victimPeer string
	for _, p := range st.Holders {
		if byPeer[p] != "n0" {
			victim, victimPeer = byPeer[p], p
			break
		}
	}
	if victim == "" || !st.Healthy {
		t.Fatalf("after the put: %+v", st)
	}
	// The victim's node runs on, but whatever it accepts is thrown away
	// within a tenth of a second.
	stop := make(chan struct{})
	discarded := make(chan int)
	go func() {
		n := 0
		for {
			objects, _ := filepath.Glob(filepath.Join(dir, victim, "shards", "??", "[0-9a-f]*"))
			for _, o := range objects {
				if os.Remove(o) == nil {
					n++
				}
			}
			select {
			case <-stop:
				discarded <- n
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	defer func() {
		close(stop)
		t.Logf("%s threw away %d objects", victim, <-discarded)
	}()
	start := time.Now()
	eventually(t, 90*time.Second, "n0's audits finding "+victim+" bad", func() bool {
		rep := storageOf(t, dir, "n0")
		a := rep.Accounts[victimPeer]
		return a != nil && a.AuditsFailed >= 3 && rep.Credit[victimPeer] == 0
	})
	t.Logf("caught and without credit after %v", time.Since(start))
	eventually(t, 60*time.Second, "repair placing its shards elsewhere", func() bool {
		st, ok := fileStatus(t, dir, "n0", g, "f.bin")
		return ok && st.Healthy && !slices.Contains(st.Holders, victimPeer)
	})
	t.Logf("repaired elsewhere after %v", time.Since(start))
	writeRandom(t, filepath.Join(dir, "g.bin"), 1<<20, 4)
	must(t, hearsay(t, dir, nil, "--home", "n0", "file", "put", g, "g.bin", filepath.Join(dir, "g.bin"), "--k", "2", "--m", "3"))
	if st, _ := fileStatus(t, dir, "n0", g, "g.bin"); slices.Contains(st.Holders, victimPeer) || len(st.Holders) != 5 {
		t.Fatalf("a new file after %s was caught: %+v", victim, st)
	}
	for _, h := range homes {
		nodes[h].stop(t)
	}
}

// TestStorageRefusals: a peer whose operator caps the writer, and a peer
// beyond whose free allowance the writer has no credit, refuse shards with
// a clear error, and keep nothing partial.
func TestStorageRefusals(t *testing.T) {
	dir := t.TempDir()
	g, homes, nodes := fileCluster(t, dir, 3)
	must(t, hearsay(t, dir, nil, "--home", "n1", "storage", "limits", "--writer-cap", "1048576"))
	must(t, hearsay(t, dir, nil, "--home", "n2", "storage", "limits", "--free", "1048576"))
	writeRandom(t, filepath.Join(dir, "f.bin"), 8<<20, 5)
	r := hearsay(t, dir, nil, "--home", "n0", "file", "put", g, "f.bin", filepath.Join(dir, "f.bin"), "--k", "1", "--m", "2")
	for _, want := range []string{"the writer's storage cap is reached", "no credit"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("put: the refusal %q is not reported: %q", want, r.stderr)
		}
	}
	for _, h := range []string{"n1", "n2"} {
		if held := storageOf(t, dir, h).HeldFor; held > 1<<20 {
			t.Errorf("%s holds %d bytes for others, over its limit", h, held)
		}
		if tmp, _ := filepath.Glob(filepath.Join(dir, h, "shards", "??", ".tmp-*")); len(tmp) > 0 {
			t.Errorf("%s keeps partial objects: %v", h, tmp)
		}
	}
	if st, _ := fileStatus(t, dir, "n0", g, "f.bin"); st.Healthy || !st.Readable {
		t.Errorf("a file its peers refused: %+v", st)
	}
	url, token := servedAPI(t, filepath.Join(dir, "n1"))
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !regexp.MustCompile(`(?m)^hearsay_objects_refused_total [1-9]`).Match(body) {
			t.Errorf("n1's /metrics counts no refusal:\n%s", body)
		}
	}
	for _, h := range homes {
		nodes[h].stop(t)
	}
}

// TestPrivateFileHoldersSeeCiphertext: in a private group the content is
// sealed before it is coded: a holder outside the group stores only
// ciphertext, and a member gets the plaintext back.
func TestPrivateFileHoldersSeeCiphertext(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "owner", "init"))
	member := must(t, hearsay(t, dir, nil, "--home", "member", "init"))
	must(t, hearsay(t, dir, nil, "--home", "outsider", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "owner", "group", "create", "club", "--read", "members"))
	must(t, hearsay(t, dir, nil, "--home", "owner", "group", "member", "add", g, member))
	owner := serve(t, dir, "--home", "owner")
	must(t, hearsay(t, dir, nil, "--home", "member", "group", "join", g, "--peer", owner.addrs[0]))
	mem := serve(t, dir, "--home", "member", "--bootstrap", owner.addrs[0])
	out := serve(t, dir, "--home", "outsider", "--bootstrap", owner.addrs[0])
	eventually(t, 30*time.Second, "the owner meeting both", func() bool {
		return strings.Count(strings.TrimSpace(hearsay(t, dir, nil, "--home", "owner", "peers", "--json").stdout), "\n") >= 1
	})
	marker := []byte("PLAINTEXT-MARKER-")
	secret := bytes.Repeat(marker, (2<<20)/len(marker))
	os.WriteFile(filepath.Join(dir, "secret.bin"), secret, 0o600)
	must(t, hearsay(t, dir, nil, "--home", "owner", "file", "put", g, "secret.bin", filepath.Join(dir, "secret.bin"), "--k", "1", "--m", "2"))
	st, _ := fileStatus(t, dir, "owner", g, "secret.bin")
	if !st.Sealed || len(st.Holders) != 3 {
		t.Fatalf("a private file: %+v", st)
	}
	objects, _ := filepath.Glob(filepath.Join(dir, "outsider", "shards", "??", "*"))
	if len(objects) == 0 {
		t.Fatal("the outsider holds no shard")
	}
	for _, o := range objects {
		if b, _ := os.ReadFile(o); bytes.Contains(b, marker[:8]) {
			t.Fatalf("%s holds plaintext", o)
		}
	}
	eventually(t, 10*time.Second, "the member seeing the file", func() bool {
		return hearsay(t, dir, nil, "--home", "member", "file", "ls", g).stdout != ""
	})
	must(t, hearsay(t, dir, nil, "--home", "member", "file", "get", g, "secret.bin", "-o", filepath.Join(dir, "got.bin")))
	if got, _ := os.ReadFile(filepath.Join(dir, "got.bin")); !bytes.Equal(got, secret) {
		t.Fatal("the member's copy differs")
	}
	for _, s := range []*serving{owner, mem, out} {
		s.stop(t)
	}
}

var filesGiB = flag.Bool("files.gib", false, "run TestFileGigabyte: put and get 1 GiB through real nodes, reporting MB/s and peak memory")

// vmHWM is a process's peak resident memory in MiB, from /proc.
func vmHWM(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb >> 10
		}
	}
	return 0
}

// peakFile names a file where a command run by a test writes its own peak
// RSS (VmHWM, in KiB) as it exits: the kernel's rusage of a child also
// counts what it shared with the test process before it ran.
const peakFile = "HEARSAY_TEST_PEAK_FILE"

func writePeak(path string) {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			os.WriteFile(path, []byte(strings.TrimSuffix(strings.TrimSpace(v), " kB")), 0o600)
		}
	}
}

// hearsayPeak runs the command like hearsay and reports its peak RSS in MiB.
func hearsayPeak(t *testing.T, dir string, args ...string) int {
	t.Helper()
	exe, _ := os.Executable()
	peak := filepath.Join(t.TempDir(), "peak")
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asCLI+"=1", peakFile+"="+peak)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v: %s", args, err, out)
	}
	b, err := os.ReadFile(peak)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("peak %q: %v", b, err)
	}
	return kb >> 10
}

// TestFileGigabyte (behind -files.gib): a 1 GiB put through a serving node
// onto three holders, and a get on a fourth node that holds nothing;
// throughput and the peak memory of every process involved.
func TestFileGigabyte(t *testing.T) {
	if !*filesGiB {
		t.Skip("a 1 GiB transfer: run with -files.gib (docs/benchmarks.md)")
	}
	dir := t.TempDir()
	g, homes, nodes := fileCluster(t, dir, 4)
	const size = 1 << 30
	want := writeRandom(t, filepath.Join(dir, "big.bin"), size, 9)
	start := time.Now()
	cliPut := hearsayPeak(t, dir, "--home", "n0", "file", "put", g, "big.bin", filepath.Join(dir, "big.bin"), "--k", "2", "--m", "1")
	put := time.Since(start)
	st, _ := fileStatus(t, dir, "n0", g, "big.bin")
	byPeer := map[string]string{}
	for h, s := range nodes {
		byPeer[peerOf(s)] = h
	}
	getter := ""
	for _, h := range homes {
		if !slices.ContainsFunc(st.Holders, func(p string) bool { return byPeer[p] == h }) {
			getter = h
		}
	}
	start = time.Now()
	cliGet := hearsayPeak(t, dir, "--home", getter, "file", "get", g, "big.bin", "-o", filepath.Join(dir, "got.bin"))
	get := time.Since(start)
	if sha256File(t, filepath.Join(dir, "got.bin")) != want {
		t.Fatal("the file got back differs")
	}
	t.Logf("put: %.1f MB/s (%v); get: %.1f MB/s (%v)", size/put.Seconds()/1e6, put, size/get.Seconds()/1e6, get)
	t.Logf("peak RSS: writer node %d MiB, put CLI %d MiB; getter node %d MiB, get CLI %d MiB; holders %v",
		vmHWM(t, nodes["n0"].cmd.Process.Pid), cliPut, vmHWM(t, nodes[getter].cmd.Process.Pid), cliGet,
		func() (out []int) {
			for _, p := range st.Holders {
				if h := byPeer[p]; h != "n0" {
					out = append(out, vmHWM(t, nodes[h].cmd.Process.Pid))
				}
			}
			return out
		}())
	for _, h := range homes {
		nodes[h].stop(t)
	}
}

// TestOfflinePutIsPlacedWhenServing: a file put while no node serves keeps
// its shards at home; once the node serves beside a peer, its repair round
// places them, and the file is healthy.
func TestOfflinePutIsPlacedWhenServing(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "media", "--write", "open"))
	must(t, hearsay(t, dir, nil, "--home", "a", "storage", "limits", "--repair-every", "1"))
	writeRandom(t, filepath.Join(dir, "f.bin"), 2<<20, 6)
	must(t, hearsay(t, dir, nil, "--home", "a", "file", "put", g, "f.bin", filepath.Join(dir, "f.bin"), "--k", "1", "--m", "1"))
	a := serve(t, dir, "--home", "a")
	b := joinAndServe(t, dir, "b", g, a.addrs[0])
	eventually(t, 30*time.Second, "a's repair round placing the offline put", func() bool {
		st, ok := fileStatus(t, dir, "a", g, "f.bin")
		return ok && st.Healthy && len(st.Holders) == 2
	})
	a.stop(t)
	b.stop(t)
}
