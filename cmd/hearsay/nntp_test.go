package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearsay/internal/home"
)

// newsgroupName is the gateway's name of a group (docs/nntp.md).
func newsgroupName(name, id string) string { return name + "." + id[:16] }

// nntpClient runs testdata/nntp_client.py against a node's gateway and
// decodes what it prints.
func nntpClient(t *testing.T, s *serving, homeDir string, args ...string) map[string]any {
	t.Helper()
	python := needProgram(t, "python3")
	token, err := home.ReadToken(homeDir)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(s.nntp, ":")
	cmd := exec.Command(python, append([]string{"testdata/nntp_client.py", host, port, token}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("nntp_client.py %v: %v\n%s\nnode: %s", args, err, stderr, s.stderr.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("nntp_client.py printed %q: %v", out, err)
	}
	return res
}

// TestNNTPWithNntplib: Python's nntplib drives every reader command of the
// gateway against a real node, posts a new thread and a follow-up that the
// CLI and the web UI's thread route then show, is refused (441) a post to a
// group the node may not write to and (440) any post on a node that may
// write nowhere, and sees the same article numbers after a restart.
func TestNNTPWithNntplib(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "comp.lang.demo"))
	root := must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "--subject", "Hello, newsreaders", "first line\n.a line that starts with a dot\nlast line"))
	must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "--reply-to", root, "a reply"))
	mine := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "notes", "--read", "members"))
	must(t, hearsay(t, dir, nil, "--home", "a", "post", mine, "--subject", "sealed", "only members read this"))

	// b's groups, which a and c hold by import: one a may not write to, one
	// it cannot read.
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	other := must(t, hearsay(t, dir, nil, "--home", "b", "group", "create", "owner.only", "--write", "owner"))
	secret := must(t, hearsay(t, dir, nil, "--home", "b", "group", "create", "secret", "--read", "members"))
	must(t, hearsay(t, dir, nil, "--home", "b", "post", secret, "--subject", "hidden", "not for a"))
	for _, gr := range []string{other, secret} {
		file := filepath.Join(dir, gr+".export")
		must(t, hearsay(t, dir, nil, "--home", "b", "export", gr, "-o", file))
		must(t, hearsay(t, dir, nil, "--home", "a", "import", file))
	}
	must(t, hearsay(t, dir, nil, "--home", "c", "init"))
	must(t, hearsay(t, dir, nil, "--home", "c", "import", filepath.Join(dir, other+".export")))

	name, otherName := newsgroupName("comp.lang.demo", g), newsgroupName("owner.only", other)
	a := serve(t, dir, "--home", "a", "--nntp", "127.0.0.1:0")
	if a.nntp == "" {
		t.Fatal("serve --nntp printed no nntp address")
	}
	res := nntpClient(t, a, filepath.Join(dir, "a"), "full", name, otherName)
	groups := map[string]bool{}
	for _, n := range res["groups"].([]any) {
		groups[n.(string)] = true
	}
	if !groups[name] || !groups[otherName] || !groups[newsgroupName("notes", mine)] || groups[newsgroupName("secret", secret)] {
		t.Fatalf("LIST shows %v: want the public groups and a's private one, not b's private one", groups)
	}
	t.Logf("refused: %v; %v", res["refused"], res["unknown_group"])

	// The follow-up is a reply in the thread, for the CLI and the web UI.
	followUp := strings.TrimSuffix(strings.TrimPrefix(res["follow_up"].(string), "<"), "@hearsay>")
	thread := must(t, hearsay(t, dir, nil, "--home", "a", "thread", g, root))
	if !strings.Contains(thread, "A follow-up from nntplib.") || !strings.Contains(thread, "a reply") {
		t.Fatalf("hearsay thread does not show the follow-up:\n%s", thread)
	}
	url, token := servedAPI(t, filepath.Join(dir, "a"))
	req, _ := http.NewRequest("GET", url+"/api/v1/groups/"+g+"/threads/"+root, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), followUp) {
		t.Fatalf("the web UI's thread route (%d) does not hold the follow-up %s: %s", resp.StatusCode, followUp, body)
	}

	before := nntpClient(t, a, filepath.Join(dir, "a"), "numbers", name)["numbers"]
	a.stop(t)
	a = serve(t, dir, "--home", "a", "--nntp", "127.0.0.1:0")
	after := nntpClient(t, a, filepath.Join(dir, "a"), "numbers", name)["numbers"]
	if b, _ := json.Marshal(before); string(b) != mustJSON(t, after) || len(before.(map[string]any)) != 4 {
		t.Fatalf("article numbers before a restart %v, after %v", before, after)
	}

	c := serve(t, dir, "--home", "c", "--nntp", "127.0.0.1:0")
	t.Logf("no posting: %v", nntpClient(t, c, filepath.Join(dir, "c"), "noposting", otherName)["post"])
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tmuxPane runs a program in a detached tmux session on a server of the
// test's own (its socket in the test's directory), killed when the test ends.
type tmuxPane struct {
	t    *testing.T
	tmux string
	sock string
}

func startTmux(t *testing.T, dir string, env []string, argv ...string) *tmuxPane {
	t.Helper()
	p := &tmuxPane{t: t, tmux: needProgram(t, "tmux"), sock: filepath.Join(dir, "tmux.sock")}
	// The pane outlives the program, so that a failure shows its last screen.
	script := `"$@"; echo "exited with status $?"; sleep 600`
	args := append([]string{"-S", p.sock, "new-session", "-d", "-x", "100", "-y", "30", "env"}, env...)
	args = append(append(args, "sh", "-c", script, "sh"), argv...)
	if out, err := exec.Command(p.tmux, args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command(p.tmux, "-S", p.sock, "kill-server").Run() })
	return p
}

func (p *tmuxPane) screen() string {
	out, _ := exec.Command(p.tmux, "-S", p.sock, "capture-pane", "-p").Output()
	return string(out)
}

// compact drops a screen's empty lines and slrn's '~' filler.
func compact(screen string) string {
	var keep []string
	for _, l := range strings.Split(screen, "\n") {
		if t := strings.TrimSpace(l); t != "" && t != "~" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func (p *tmuxPane) keys(keys ...string) {
	p.t.Helper()
	if out, err := exec.Command(p.tmux, append([]string{"-S", p.sock, "send-keys"}, keys...)...).CombinedOutput(); err != nil {
		p.t.Fatalf("tmux send-keys: %v: %s", err, out)
	}
}

// await waits (15 s at most) until the screen shows text, and logs it.
func (p *tmuxPane) await(text string) {
	p.t.Helper()
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if last = p.screen(); strings.Contains(last, text) {
			p.t.Logf("screen:\n%s", compact(last))
			return
		}
	}
	p.t.Fatalf("the screen did not show %q within 15 s:\n%s", text, last)
}

// TestSlrnFollowUpReachesSecondNode: slrn, a real newsreader, run in tmux
// against node B's gateway, lists B's groups, opens the one B joined from
// A, shows its thread, and posts a follow-up, which reaches node A.
func TestSlrnFollowUpReachesSecondNode(t *testing.T) {
	slrn := needProgram(t, "slrn")
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "comp.lang.demo", "--write", "open"))
	root := must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "--subject", "Hello, slrn", "first line\nsecond line"))
	must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "--reply-to", root, "a reply from the CLI"))
	a := serve(t, dir, "--home", "a")
	b := joinAndServe(t, dir, "b", g, a.addrs[0])
	b.stop(t)
	b = serve(t, dir, "--home", "b", "--nntp", "127.0.0.1:0", "--bootstrap", a.addrs[0])

	token, err := home.ReadToken(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	slrnHome := filepath.Join(dir, "slrn")
	editor := filepath.Join(slrnHome, "editor")
	host, port, _ := strings.Cut(b.nntp, ":")
	files := map[string]string{
		".slrnrc": "nnrpaccess \"" + host + "\" \"reader\" \"" + token + "\"\n" +
			"set editor_command \"" + editor + " '%s'\"\nset confirm_actions 0\nset hostname \"example.invalid\"\nset username \"reader\"\nset realname \"Reader\"\n",
		"editor":   "#!/bin/sh\nprintf '\\nA follow-up from slrn.\\n' >> \"$1\"\n",
		".jnewsrc": "",
	}
	for name, content := range files {
		if err := os.MkdirAll(slrnHome, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(slrnHome, name), []byte(content), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	pane := startTmux(t, dir, []string{"HOME=" + slrnHome, "TERM=xterm"},
		slrn, "-h", host+":"+port, "-f", filepath.Join(slrnHome, ".jnewsrc"), "--create")
	pane.await(newsgroupName("comp.lang.demo", g))
	pane.keys("Space") // open the group: its threads
	pane.await("Hello, slrn")
	pane.keys("Space") // read the first article
	pane.await("second line")
	pane.keys("f")
	pane.await("Post the message?")
	pane.keys("y")
	eventually(t, 15*time.Second, "the follow-up on node A", func() bool {
		r := hearsay(t, dir, nil, "--home", "a", "thread", g, root)
		return r.code == 0 && strings.Contains(r.stdout, "A follow-up from slrn.")
	})
	t.Log(must(t, hearsay(t, dir, nil, "--home", "a", "thread", g, root)))
}
