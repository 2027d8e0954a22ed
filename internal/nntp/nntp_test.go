package nntp

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/store"

	"github.com/cockroachdb/pebble/v2/vfs"
)

const testToken = "the-token"

func newNode(t testing.TB) *node.Node {
	t.Helper()
	h, _, err := home.Init(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(h, store.Options{FS: vfs.NewMem()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func serveNode(t testing.TB, n *node.Node, limits Limits) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := Serve(ln, n, testToken, limits)
	t.Cleanup(func() { s.Close() })
	return s
}

// client is a line-level NNTP client for tests.
type client struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, s *Server) *client {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	cl := &client{t: t, c: c, r: bufio.NewReader(c)}
	cl.line() // greeting
	return cl
}

func (cl *client) line() string {
	cl.t.Helper()
	l, err := cl.r.ReadString('\n')
	if err != nil {
		cl.t.Fatalf("read: %v (after %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// cmd sends a command and returns its status line.
func (cl *client) cmd(format string, args ...any) string {
	cl.t.Helper()
	fmt.Fprintf(cl.c, format+"\r\n", args...)
	return cl.line()
}

// block reads a multi-line block's lines, undoing the dot-stuffing.
func (cl *client) block() []string {
	cl.t.Helper()
	var out []string
	for {
		l := cl.line()
		if l == "." {
			return out
		}
		out = append(out, strings.TrimPrefix(l, "."))
	}
}

func (cl *client) login() {
	cl.t.Helper()
	if r := cl.cmd("AUTHINFO USER me"); !strings.HasPrefix(r, "381") {
		cl.t.Fatalf("AUTHINFO USER: %s", r)
	}
	if r := cl.cmd("AUTHINFO PASS %s", testToken); !strings.HasPrefix(r, "281") {
		cl.t.Fatalf("AUTHINFO PASS: %s", r)
	}
}

func code(t testing.TB, got, want string) {
	t.Helper()
	if !strings.HasPrefix(got, want+" ") {
		t.Fatalf("got %q, want %s", got, want)
	}
}

func TestNames(t *testing.T) {
	id := entry.ID{0xab, 0xcd}
	for name, want := range map[string]string{
		"comp.lang.go":      "comp.lang.go.abcd000000000000",
		"Hello, World!":     "hello--world.abcd000000000000",
		"..a..b..":          "a.b.abcd000000000000",
		"***":               "group.abcd000000000000",
		"Grüße aus Köln":    "gr--e-aus-k-ln.abcd000000000000",
		"x[1]?,!\\ y":       "x-1------y.abcd000000000000",
		"sci.math+physics_": "sci.math+physics_.abcd000000000000",
	} {
		got := Name(&group.Group{ID: id, Genesis: group.Genesis{Name: name}})
		if got != want {
			t.Errorf("Name(%q) = %q, want %q", name, got, want)
		}
		if strings.ContainsAny(got, "*?[]\\!, \t") {
			t.Errorf("Name(%q) = %q holds a wildmat character", name, got)
		}
	}
	for _, c := range []struct {
		pat, name string
		want      bool
	}{
		{"*", "a.b", true}, {"a.*", "a.b", true}, {"a.*", "b.a", false}, {"a.?", "a.b", true},
		{"a.?", "a.bc", false}, {"*,!a.*", "a.b", false}, {"*,!a.*", "b.a", true},
		{"!a.*,a.b", "a.b", true}, {"*.go.*", "comp.lang.go.abcd", true}, {"", "a", false},
	} {
		if got := wildmat(c.pat, c.name); got != c.want {
			t.Errorf("wildmat(%q, %q) = %v", c.pat, c.name, got)
		}
	}
}

func TestParsePost(t *testing.T) {
	parent := entry.ID{1, 2, 3}
	good := []struct {
		raw  string
		want posted
	}{
		{"Newsgroups: a.b\r\nSubject: Hi\r\n\r\nline one\r\nline two\r\n\r\n",
			posted{newsgroup: "a.b", subject: "Hi", text: "line one\nline two"}},
		{"Newsgroups: a.b\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nReferences: <x@y> " + messageID(parent) + "\r\n" +
			"Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=F6ln=\r\n!\r\n",
			posted{newsgroup: "a.b", subject: "Grüße", text: "Köln!", parent: parent}},
		{"Newsgroups: a.b\r\nReferences: " + messageID(parent) + "\r\nContent-Transfer-Encoding: base64\r\n\r\naMOpbGxv\r\n",
			posted{newsgroup: "a.b", text: "héllo", parent: parent}},
		{"Newsgroups: a.b\nSubject: folded\n  subject\n\nunix lines\n",
			posted{newsgroup: "a.b", subject: "folded subject", text: "unix lines"}},
	}
	for _, c := range good {
		got, err := parsePost([]byte(c.raw))
		if err != nil || got != c.want {
			t.Errorf("parsePost(%q) = %+v, %v; want %+v", c.raw, got, err, c.want)
		}
	}
	for raw, why := range map[string]string{
		"Subject: x\r\n\r\nx\r\n":                                                                "Newsgroups",
		"Newsgroups: a.b,c.d\r\nSubject: x\r\n\r\nx\r\n":                                         "cross-posting",
		"Newsgroups: a.b\r\n\r\nno subject, no parent\r\n":                                       "Subject",
		"Newsgroups: a.b\r\nSubject: x\r\nReferences: <x@elsewhere>\r\n\r\nx\r\n":                "References",
		"Newsgroups: a.b\r\nSubject: " + strings.Repeat("s", 300) + "\r\n\r\nx\r\n":              "subject of",
		"Newsgroups: a.b\r\nSubject: x\r\nContent-Type: text/html\r\n\r\nx\r\n":                  "plain text",
		"Newsgroups: a.b\r\nSubject: x\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\nx\r\n": "charset",
		"Newsgroups: a.b\r\nSubject: x\r\n\r\n\xff\xfe\r\n":                                      "not utf-8",
		"no head at all": "head",
	} {
		if _, err := parsePost([]byte(raw)); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("parsePost(%q) = %v, want an error about %s", raw, err, why)
		}
	}
}

func FuzzParsePost(f *testing.F) {
	f.Add([]byte("Newsgroups: a.b\r\nSubject: Hi\r\n\r\nbody\r\n"))
	f.Add([]byte("Newsgroups: a.b\r\nSubject: =?UTF-8?B?w6k=?=\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := parsePost(raw)
		if err == nil && (p.newsgroup == "" || p.subject == "" && p.parent.IsZero() || len(p.subject) > group.MaxSubject) {
			t.Fatalf("accepted %+v", p)
		}
	})
}

// A gateway over a node with a public group (a thread, a retracted post) and
// a private one.
func gateway(t testing.TB, limits Limits) (*node.Node, *Server, entry.ID, entry.ID) {
	t.Helper()
	n := newNode(t)
	g, err := n.CreateGroup(group.Genesis{Name: "demo", Write: group.WriteMembers, Read: group.ReadPublic, Quota: group.DefaultQuota})
	if err != nil {
		t.Fatal(err)
	}
	root, err := n.Post(g, group.Post{Subject: "root", Text: "hello"}, entry.ID{})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := n.Post(g, group.Post{Subject: "gone", Text: "regret"}, entry.ID{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Post(g, group.Post{Text: "a reply"}, root); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Retract(g, gone); err != nil {
		t.Fatal(err)
	}
	priv, err := n.CreateGroup(group.Genesis{Name: "private", Write: group.WriteMembers, Read: group.ReadMembers, Quota: group.DefaultQuota})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Post(priv, group.Post{Subject: "sealed", Text: "for members"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	return n, serveNode(t, n, limits), g, priv
}

func TestSessionReads(t *testing.T) {
	n, s, g, priv := gateway(t, DefaultLimits)
	grp, _ := n.Store.Group(g)
	name := Name(grp)
	cl := dial(t, s)
	code(t, cl.cmd("GROUP %s", name), "480")
	code(t, cl.cmd("AUTHINFO PASS %s", testToken), "482")
	cl.login()
	code(t, cl.cmd("AUTHINFO USER again"), "502")
	// Three posts were numbered; the retracted one (2) is not shown.
	code(t, cl.cmd("GROUP %s", name), "211")
	if r := cl.cmd("LISTGROUP"); !strings.HasPrefix(r, "211 3 1 3 ") {
		t.Fatalf("LISTGROUP: %s", r)
	}
	if got := cl.block(); strings.Join(got, ",") != "1,3" {
		t.Fatalf("LISTGROUP lists %v, want 1 and 3", got)
	}
	code(t, cl.cmd("STAT 2"), "423")
	code(t, cl.cmd("STAT 1"), "223")
	if r := cl.cmd("NEXT"); !strings.HasPrefix(r, "223 3 ") {
		t.Fatalf("NEXT skips the retracted post: %s", r)
	}
	code(t, cl.cmd("NEXT"), "421")
	code(t, cl.cmd("OVER 1-3"), "224")
	over := cl.block()
	if len(over) != 2 || !strings.HasPrefix(over[1], "3\tRe: root\t") {
		t.Fatalf("OVER %q", over)
	}
	code(t, cl.cmd("OVER 5-9"), "423")
	code(t, cl.cmd("OVER x"), "501")
	code(t, cl.cmd("HDR :lines 1"), "225")
	if got := cl.block(); len(got) != 1 || got[0] != "1 1" {
		t.Fatalf("HDR :lines %q", got)
	}
	// The private group is a member's to read: its post opens.
	pg, _ := n.Store.Group(priv)
	code(t, cl.cmd("GROUP %s", Name(pg)), "211")
	code(t, cl.cmd("BODY 1"), "222")
	if got := cl.block(); len(got) != 1 || got[0] != "for members" {
		t.Fatalf("BODY of the sealed post %q", got)
	}
	code(t, cl.cmd("LIST ACTIVE nosuch.*"), "215")
	if got := cl.block(); len(got) != 0 {
		t.Fatalf("LIST ACTIVE nosuch.* %q", got)
	}
	code(t, cl.cmd("NEWGROUPS 20260101 000000 GMT"), "231")
	if got := cl.block(); len(got) != 2 {
		t.Fatalf("NEWGROUPS %q", got)
	}
	code(t, cl.cmd("NEWGROUPS 2026 000000"), "501")
	code(t, cl.cmd("IHAVE <x@y>"), "500")
	// What arrives while a reader is connected shows in the next GROUP.
	if _, err := n.Post(g, group.Post{Subject: "late", Text: "new"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	if r := cl.cmd("GROUP %s", name); !strings.HasPrefix(r, "211 4 1 4 ") {
		t.Fatalf("GROUP after a new post: %s", r)
	}
	code(t, cl.cmd("QUIT"), "205")
}

func TestSessionLimits(t *testing.T) {
	_, s, _, _ := gateway(t, Limits{Conns: 1, AuthTimeout: time.Minute, IdleTimeout: time.Minute, WriteTimeout: time.Minute, MaxArticle: 100, AuthTries: 2})
	cl := dial(t, s)
	// A second connection is refused while the first is open.
	c2, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if l, _ := bufio.NewReader(c2).ReadString('\n'); !strings.HasPrefix(l, "400 ") {
		t.Fatalf("second connection got %q", l)
	}
	code(t, cl.cmd("AUTHINFO USER x"), "381")
	code(t, cl.cmd("AUTHINFO PASS wrong"), "481")
	code(t, cl.cmd("AUTHINFO PASS wrong"), "481")
	if _, err := cl.r.ReadString('\n'); err == nil {
		t.Fatal("the connection stayed open after too many failed passwords")
	}

	cl = dial(t, s)
	cl.login()
	code(t, cl.cmd("POST"), "340")
	fmt.Fprintf(cl.c, "Newsgroups: x\r\nSubject: big\r\n\r\n%s\r\n.\r\n", strings.Repeat("long line ", 20))
	code(t, cl.line(), "441")
	code(t, cl.cmd("DATE"), "111") // still in step after the refusal
	fmt.Fprintf(cl.c, "%s\r\n", strings.Repeat("x", 2*maxLine))
	code(t, cl.line(), "501")
	if _, err := cl.r.ReadString('\n'); err == nil {
		t.Fatal("the connection stayed open after an overlong line")
	}
}

// FuzzSession feeds arbitrary lines to an authenticated session: nothing a
// client sends may crash the node, and the session answers a DATE after it.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{"GROUP demo\nARTICLE 1\nNEXT\nLAST", "OVER 0-18446744073709551615", "LISTGROUP a 5-2",
		"HDR Subject <x@hearsay>", "POST\nNewsgroups: a\n\n.", "NEWNEWS * 991231 235959", "LIST OVERVIEW.FMT\nXOVER\nXHDR from 1-"} {
		f.Add(seed)
	}
	_, s, _, _ := gateway(f, DefaultLimits)
	f.Fuzz(func(t *testing.T, input string) {
		if strings.Contains(input, "POST") || strings.Contains(strings.ToUpper(input), "QUIT") {
			return // a POST would swallow the DATE; QUIT ends the session
		}
		cl := dial(t, s)
		cl.login()
		// Written while the answers are read, or a long input and its answers
		// would fill both directions' buffers.
		go func() {
			for _, l := range strings.Split(input, "\n") {
				if len(l) > 512 || strings.ContainsAny(l, "\r\x00") {
					continue
				}
				fmt.Fprintf(cl.c, "%s\r\n", l)
			}
			fmt.Fprintf(cl.c, "DATE\r\n")
		}()
		for {
			l, err := cl.r.ReadString('\n')
			if err != nil {
				t.Fatalf("the session ended: %v", err)
			}
			if strings.HasPrefix(l, "111 ") {
				return
			}
		}
	})
}

func deadline() time.Time { return time.Now().Add(5 * time.Minute) }
