// Package internal_test checks the architecture of docs/architecture.md:
// which package may import which, and that the pure packages do no I/O.
package internal_test

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "hearsay/"

// allowed lists, per package, the project packages it may import. A package
// missing here fails the test: a new package states its place.
var allowed = map[string][]string{
	"internal/hlc":              {},
	"internal/entry":            {"internal/hlc"},
	"internal/secret":           {},
	"internal/strictjson":       {},
	"internal/blob":             {},
	"internal/shards":           {"internal/blob"},
	"internal/proto/storage":    {},
	"internal/group":            {"internal/blob", "internal/entry", "internal/hlc", "internal/secret"},
	"internal/archive":          {"internal/entry"},
	"internal/view":             {"internal/entry", "internal/group", "internal/hlc"},
	"internal/proto/negentropy": {},
	"internal/proto/hyparview":  {},
	"internal/proto/plumtree":   {},
	"internal/proto/score":      {},
	"internal/proto/topic":      {"internal/proto/hyparview", "internal/proto/plumtree", "internal/proto/score"},
	"internal/sim":              {"internal/proto/hyparview", "internal/proto/negentropy", "internal/proto/plumtree", "internal/proto/score", "internal/proto/storage", "internal/proto/topic"},
	"internal/wire":             {"internal/entry", "internal/proto/hyparview", "internal/proto/plumtree"},
	"internal/gossip":           {"internal/entry", "internal/proto/hyparview", "internal/proto/plumtree", "internal/proto/topic", "internal/wire"},
	"internal/transport":        {},
	"internal/store":            {"internal/entry", "internal/group", "internal/hlc", "internal/view"},
	"internal/home":             {"internal/entry"},
	"internal/node":             {"internal/archive", "internal/blob", "internal/shards", "internal/proto/storage", "internal/entry", "internal/group", "internal/hlc", "internal/gossip", "internal/home", "internal/proto/negentropy", "internal/proto/score", "internal/secret", "internal/store", "internal/transport", "internal/view", "internal/wire"},
	"internal/api":              {},
	"internal/dav":              {"internal/blob", "internal/entry", "internal/group", "internal/node", "internal/view"},
	"internal/metrics":          {"internal/node"},
	"internal/nntp":             {"internal/entry", "internal/group", "internal/node", "internal/store"},
	"internal/web":              {"internal/blob", "internal/entry", "internal/group", "internal/node", "internal/store", "internal/strictjson", "internal/view"},
	"cmd/hearsay":               {"internal/api", "internal/blob", "internal/dav", "internal/entry", "internal/group", "internal/home", "internal/metrics", "internal/nntp", "internal/node", "internal/sim", "internal/store", "internal/view", "internal/web"},
}

// pure packages decide; they never touch the disk, the network or the clock.
var pure = []string{"internal/blob", "internal/proto/storage", "internal/hlc", "internal/entry", "internal/group", "internal/archive", "internal/view", "internal/secret", "internal/strictjson", "internal/proto/negentropy", "internal/proto/hyparview", "internal/proto/plumtree", "internal/proto/score", "internal/proto/topic", "internal/sim", "internal/wire"}

// cores are the protocol state machines and the simulator that drives them:
// besides being pure, they are deterministic and single-threaded (see
// coreViolations).
var cores = []string{"internal/proto/negentropy", "internal/proto/hyparview", "internal/proto/plumtree", "internal/proto/score", "internal/proto/storage", "internal/proto/topic", "internal/sim"}

var impure = []string{"os", "os/exec", "net", "net/http", "syscall", "io/fs", "path/filepath"}

func TestLayers(t *testing.T) {
	root, _ := filepath.Abs("..")
	seen := 0
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil || pkg.Name == "" || len(pkg.GoFiles) == 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		seen++
		may, ok := allowed[rel]
		if !ok {
			t.Errorf("%s is not in the layering table: add it, with the packages it may import", rel)
			return nil
		}
		for _, imp := range pkg.Imports {
			if p, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(may, p) {
				t.Errorf("%s imports %s, which the architecture does not allow", rel, p)
			}
			if slices.Contains(pure, rel) && slices.Contains(impure, imp) {
				t.Errorf("%s is pure but imports %s", rel, imp)
			}
		}
		if slices.Contains(pure, rel) {
			for _, f := range pkg.GoFiles {
				b, _ := os.ReadFile(filepath.Join(path, f))
				if strings.Contains(string(b), "time.Now(") {
					t.Errorf("%s/%s reads the clock: pass the time in", rel, f)
				}
				if slices.Contains(cores, rel) {
					for _, v := range coreViolations(f, b) {
						t.Errorf("%s/%s", rel, v)
					}
				}
			}
		}
		return nil
	})
	if seen < len(allowed) {
		t.Errorf("found %d packages, the table names %d", seen, len(allowed))
	}
}

// coreForbidden are what a core may not use of package time: the clock and
// timers (a core gets now as an argument and asks its driver for timers).
var coreForbidden = map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "Tick": true, "NewTimer": true, "NewTicker": true}

// randAllowed are the identifiers of math/rand and math/rand/v2 a core may
// use: making an injected generator, not the global one.
var randAllowed = map[string]bool{"New": true, "NewPCG": true, "NewChaCha8": true, "NewZipf": true, "NewSource": true,
	"Rand": true, "Source": true, "PCG": true, "ChaCha8": true, "Zipf": true}

// coreViolations lists what in one file of a core breaks its rules: a go
// statement, an import of sync or sync/atomic, the clock or a timer of
// package time, the global generator of math/rand. Each is "file:line:
// what". A file that does not parse is one violation.
func coreViolations(name string, src []byte) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", name, err)}
	}
	var out []string
	at := func(n ast.Node, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s:%d: ", name, fset.Position(n.Pos()).Line)+fmt.Sprintf(format, args...))
	}
	local := map[string]string{} // import name in the file → path, for time and math/rand
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		switch path {
		case "sync", "sync/atomic":
			at(imp, "imports %s: a core is single-threaded", path)
		case "time", "math/rand", "math/rand/v2":
			n := filepath.Base(strings.TrimSuffix(path, "/v2"))
			if imp.Name != nil {
				n = imp.Name.Name
			}
			local[n] = path
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			at(n, "starts a goroutine: a core is single-threaded")
		case *ast.SelectorExpr:
			x, ok := n.X.(*ast.Ident)
			if !ok || x.Obj != nil { // a local variable, not a package
				return true
			}
			switch path := local[x.Name]; {
			case path == "time" && coreForbidden[n.Sel.Name]:
				at(n, "uses time.%s: pass the time in, ask the driver for timers", n.Sel.Name)
			case strings.HasPrefix(path, "math/rand") && !randAllowed[n.Sel.Name]:
				at(n, "uses the global %s.%s: inject the generator", path, n.Sel.Name)
			}
		}
		return true
	})
	return out
}

// TestCoreViolationsAreCaught: the rules catch each thing they forbid, by
// whatever name it is imported, and pass what a core may do.
func TestCoreViolationsAreCaught(t *testing.T) {
	bad := `package core

import (
	"math/rand/v2"
	mr "math/rand"
	"sync"
	clock "time"
)

var mu sync.Mutex

func f(rng *rand.Rand) {
	go func() {}()
	_ = clock.Now()
	clock.Sleep(1)
	<-clock.After(1)
	clock.AfterFunc(1, nil)
	_ = clock.NewTimer(1)
	_ = rand.IntN(3)
	_ = mr.Intn(3)
	_ = rng.IntN(3)
}
`
	got := coreViolations("bad.go", []byte(bad))
	want := []string{
		"bad.go:6: imports sync: a core is single-threaded",
		"bad.go:13: starts a goroutine: a core is single-threaded",
		"bad.go:14: uses time.Now: pass the time in, ask the driver for timers",
		"bad.go:15: uses time.Sleep: pass the time in, ask the driver for timers",
		"bad.go:16: uses time.After: pass the time in, ask the driver for timers",
		"bad.go:17: uses time.AfterFunc: pass the time in, ask the driver for timers",
		"bad.go:18: uses time.NewTimer: pass the time in, ask the driver for timers",
		"bad.go:19: uses the global math/rand/v2.IntN: inject the generator",
		"bad.go:20: uses the global math/rand.Intn: inject the generator",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	good := `package core

import (
	"math/rand/v2"
	"time"
)

func g(now time.Time, d time.Duration) *rand.Rand {
	_ = now.Add(d)
	return rand.New(rand.NewPCG(1, 2))
}
`
	if got := coreViolations("good.go", []byte(good)); len(got) != 0 {
		t.Fatalf("a core's allowed uses flagged: %v", got)
	}
}
