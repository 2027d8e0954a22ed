package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hearsay/internal/entry"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var screenshots = flag.String("ui.screenshots", "", "write screenshots of the main pages into this directory (docs/screenshots)")

// browser starts headless Chromium (Debian's `chromium`, which .ci/run
// installs) and collects the console errors, exceptions and failed loads
// of its pages.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (apt-get install chromium); the UI tests need a real browser")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1000, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelCtx(); cancelAlloc() })
	var mu sync.Mutex
	var problems []string
	err = chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				problems = append(problems, fmt.Sprintf("console %s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, fmt.Sprintf("exception: %s (line %d)", ev.ExceptionDetails.Text, ev.ExceptionDetails.LineNumber))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				problems = append(problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, runtime.Enable, cdp.Empty{})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

func shoot(ctx context.Context, t *testing.T, name string) {
	if *screenshots == "" {
		return
	}
	time.Sleep(300 * time.Millisecond) // let transitions settle
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void]("window.scrollTo(0, 0)")); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWebUI drives the UI in a real browser: log in through the URL
// `serve` prints, create a group, post and reply; a post written on a
// second node appears without a reload; the directory's prefix search
// narrows as one types; and no page logs an error.
func TestWebUI(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	must(t, hearsay(t, dir, nil, "--home", "a", "profile", "set", "Alice"))
	a := serve(t, dir, "--home", "a")
	ctx, problems := browser(t)
	byText := func(tag, text string) string { return fmt.Sprintf(`//%s[normalize-space()=%q]`, tag, text) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.login),
		chromedp.WaitVisible(byText("h1", "Groups")),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "forum"),
		chromedp.SetValue(chromedp.CSS(`select[name=write]`), "open"),
		chromedp.Click(byText("button", "Create")),
		chromedp.WaitVisible(byText("a", "Forum")),
	)
	if err != nil {
		t.Fatalf("create a group: %v (%v)", err, problems())
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	g := loc[strings.LastIndex(loc, "/")+1:]
	if _, err := entry.ParseID(g); err != nil {
		t.Fatalf("the forum page's location %q names no group", loc)
	}
	post := `//article[.//div[@class="text" and normalize-space()="hello from the browser"]]`
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`form textarea[name=text]`), "hello from the browser"),
		chromedp.Click(byText("button", "Post")),
		chromedp.WaitVisible(post),
		chromedp.Click(post+`//button[normalize-space()="Reply"]`),
		chromedp.SendKeys(post+`//textarea`, "a reply"),
		chromedp.Click(post+`//button[normalize-space()="Send reply"]`),
		chromedp.WaitVisible(post+`//div[@class="replies"]//div[@class="text" and normalize-space()="a reply"]`),
	)
	if err != nil {
		t.Fatalf("post and reply: %v (%v)", err, problems())
	}

	// A second node joins and posts; the open page shows it live.
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	must(t, hearsay(t, dir, nil, "--home", "b", "profile", "set", "Bob"))
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "join", g, "--peer", a.addrs[0]))
	b := serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])
	eventually(t, 10*time.Second, "b meeting a", func() bool {
		return strings.Contains(hearsay(t, dir, nil, "--home", "b", "peers").stdout, " group")
	})
	must(t, hearsay(t, dir, nil, "--home", "b", "post", g, "from the second node"))
	live, cancel := context.WithTimeout(ctx, 15*time.Second)
	err = chromedp.Do(live, chromedp.WaitVisible(`//div[@class="text" and normalize-space()="from the second node"]`))
	cancel()
	if err != nil {
		t.Fatalf("b's post did not appear live: %v (%v)", err, problems())
	}
	// Authors show by name, with their short id.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`//article[.//div[@class="text" and normalize-space()="from the second node"]]//span[@class="name" and normalize-space()="Bob"]`),
		chromedp.WaitVisible(post+`//span[@class="name" and normalize-space()="Alice"]`)); err != nil {
		t.Fatalf("names on the forum: %v (%v)", err, problems())
	}
	shoot(ctx, t, "forum")
	for _, h := range []string{"a", "b"} {
		if peers := must(t, hearsay(t, dir, nil, "--home", h, "peers", "--json")); strings.Contains(peers, `"violations":1`) || !strings.Contains(peers, `"violations":0`) {
			t.Fatalf("%s counts honest peers as violators: %s", h, peers)
		}
	}

	versions := map[string]string{}
	for _, p := range []string{"docs/readme.txt", "docs/notes/monday.txt", "docs/notes/tuesday.txt", "src/main.go"} {
		versions[p] = must(t, hearsay(t, dir, nil, "--home", "a", "dir", "put", g, p, "contents of "+p))
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(loc+"/dir"),
		chromedp.WaitVisible(`//ul[@id="paths"]//a[normalize-space()="src/main.go"]`),
		chromedp.SendKeys(chromedp.CSS(`#prefix`), "docs/n"),
	)
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`!document.getElementById("paths").textContent.includes("readme")`, chromedp.WithPollingTimeout(5*time.Second)))
	}
	var found string
	if err == nil {
		found, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#paths`)))
	}
	if err == nil {
		err = chromedp.Do(ctx,
			chromedp.Click(byText("a", "docs/notes/monday.txt")),
			chromedp.WaitVisible(`//pre[normalize-space()="contents of docs/notes/monday.txt"]`),
		)
	}
	if err != nil {
		t.Fatalf("directory search: %v (%v)", err, problems())
	}
	if !strings.Contains(found, "monday") || !strings.Contains(found, "tuesday") || strings.Contains(found, "main.go") {
		t.Fatalf("prefix docs/n lists %q", found)
	}
	// A path's history opens each version's value, the old ones too.
	must(t, hearsay(t, dir, nil, "--home", "a", "dir", "put", g, "docs/notes/monday.txt", "monday, revised"))
	err = chromedp.Do(ctx,
		chromedp.Click(byText("a", "docs/notes/monday.txt")),
		chromedp.WaitVisible(`//pre[normalize-space()="monday, revised"]`),
		chromedp.Click(`//table[@id="history"]//a[@data-version="`+versions["docs/notes/monday.txt"]+`"]`),
		chromedp.WaitVisible(`//div[@id="version"]/pre[normalize-space()="contents of docs/notes/monday.txt"]`),
		chromedp.WaitVisible(`//div[@id="version"]/p[contains(., "Version `+versions["docs/notes/monday.txt"][:12]+`")]`),
	)
	if err != nil {
		t.Fatalf("an old version from the history: %v (%v)", err, problems())
	}
	shoot(ctx, t, "directory")

	// A large file: uploaded from the page, its health shown, downloaded
	// byte for byte.
	upload := filepath.Join(dir, "clip.bin")
	want := writeRandom(t, upload, 3<<20+5, 11)
	err = chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{upload}),
		chromedp.SendKeys(chromedp.CSS(`#target`), "videos"),
		chromedp.Click(`//form[@id="upload"]//button`),
		chromedp.WaitVisible(`//div[@id="filecard"]//p[contains(., "3,145,733 bytes")]`),
		chromedp.WaitVisible(`//p[@id="health" and contains(., "shards live")]`),
	)
	if err != nil {
		t.Fatalf("upload a large file: %v (%v)", err, problems())
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.getElementById("download").href).then(r => r.arrayBuffer()).
		then(b => crypto.subtle.digest("SHA-256", b)).then(d => Array.from(new Uint8Array(d)).map(x => x.toString(16).padStart(2, "0")).join(""))`, chromedp.EvalAwaitPromise))
	if err != nil || got != fmt.Sprintf("%x", want) {
		t.Fatalf("the downloaded file: sha256 %s, want %x (%v)", got, want, err)
	}
	if st, _ := fileStatus(t, dir, "a", g, "videos/clip.bin"); st.Size != 3<<20+5 {
		t.Fatalf("the uploaded file's status: %+v", st)
	}
	shoot(ctx, t, "files")

	// A link in a post is a link; the sets are listed; a node that may not
	// post to a group is told so instead of shown a form.
	must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "see https://example.org/docs?x=1 for more"))
	must(t, hearsay(t, dir, nil, "--home", "a", "set", "add", g, "tags", "go"))
	closed := must(t, hearsay(t, dir, nil, "--home", "b", "group", "create", "closed"))
	export := filepath.Join(dir, "closed.export")
	must(t, hearsay(t, dir, nil, "--home", "b", "export", closed, "-o", export))
	must(t, hearsay(t, dir, nil, "--home", "a", "import", export))
	base := a.login[:strings.Index(a.login, "/login")]
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/#/g/"+g),
		chromedp.WaitVisible(`//div[@class="text"]/a[@href="https://example.org/docs?x=1" and normalize-space()="https://example.org/docs?x=1"]`),
		chromedp.Navigate(base+"/#/g/"+g+"/sets"),
		chromedp.WaitVisible(`//ul[@id="sets"]//a[normalize-space()="tags"]`),
		chromedp.Navigate(base+"/#/g/"+closed),
		chromedp.WaitVisible(`//p[@id="readonly" and contains(., "Only members may post here")]`),
	)
	if err != nil {
		t.Fatalf("links, the list of sets, a read-only forum: %v (%v)", err, problems())
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("main form, main button").length`)); err != nil || n != 0 {
		t.Fatalf("a read-only forum shows %d forms and buttons (%v)", n, err)
	}
	// A connected peer shows on the network page with its score and
	// standing; a banned one in the bans.
	bPeer := b.addrs[0][strings.LastIndex(b.addrs[0], "/")+1:]
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/network"),
		chromedp.WaitVisible(`//table[@id="peers"]//tr[td[@title="`+bPeer+`"]]/td[5][normalize-space()="good"]`)); err != nil {
		t.Fatalf("the network page's peers: %v (%v)", err, problems())
	}
	// The ban changes the node's status while the network page listens for
	// it, and the about page opened at once stays: the network page's
	// refresh, already due, is dropped.
	must(t, hearsay(t, dir, nil, "--home", "a", "ban", bPeer))
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/g/"+g+"/about"), chromedp.WaitVisible(byText("h2", "Members")), chromedp.Sleep(time.Second)); err != nil {
		t.Fatalf("the about page after the network page: %v (%v)", err, problems())
	}
	if h1, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main h1").textContent`)); err != nil || h1 != "forum" {
		t.Fatalf("a second after the about page opened, it shows %q (%v)", h1, err)
	}
	// The about page hides an author, lists it with the way back, and lifts
	// it; b, once it equivocates, is listed with a button that hides it.
	bID := must(t, hearsay(t, dir, nil, "--home", "b", "id"))
	equivocate(t, dir, "b", "a", g)
	hidden := `//ul[@id="hidden"]/li[.//span[normalize-space()="` + bID + `"]]//button[normalize-space()="Unhide"]`
	equivocator := `//ul[@id="equivocators"]/li[span[normalize-space()="` + bID + `"]]`
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#hide-author input[name=author]`), bID),
		chromedp.Click(`//form[@id="hide-author"]//button`),
		chromedp.WaitVisible(hidden),
		chromedp.WaitVisible(equivocator+`/span[normalize-space()="hidden"]`),
		chromedp.Click(hidden),
		chromedp.WaitVisible(`//p[@id="hidden"]`),
		chromedp.Click(equivocator+`/button[normalize-space()="Hide author"]`),
		chromedp.WaitVisible(hidden),
		chromedp.Click(hidden),
		chromedp.WaitVisible(equivocator+`/button[normalize-space()="Hide author"]`),
	); err != nil {
		t.Fatalf("hiding an author on the about page: %v (%v)", err, problems())
	}
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").textContent`)); err != nil || strings.Contains(text, "null") || strings.Contains(text, "undefined") {
		t.Fatalf("the about page reads %q (%v)", text, err)
	}
	for _, page := range []struct{ name, hash, ready string }{
		{"groups", "#/groups", byText("h1", "Groups")},
		{"collections", "#/g/" + g + "/sets/tags", byText("h2", "Set “tags”")},
		{"about", "#/g/" + g + "/about", byText("h2", "Members")},
		{"network", "#/network", `//table[@id="bans"]//td[@title="` + bPeer + `"]`},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"+page.hash), chromedp.WaitVisible(page.ready)); err != nil {
			t.Fatalf("%s page: %v (%v)", page.name, err, problems())
		}
		shoot(ctx, t, page.name)
	}
	if p := problems(); len(p) > 0 {
		t.Fatalf("the pages logged errors:\n%s", strings.Join(p, "\n"))
	}
	a.stop(t)
	b.stop(t)
}
