package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
