// Package internal_test checks the architecture of docs/architecture.md:
// which package may import which, and that the pure packages do no I/O.
package internal_test

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
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
	"internal/blob":             {},
	"internal/shards":           {"internal/blob"},
	"internal/proto/storage":    {},
	"internal/group":            {"internal/blob", "internal/entry", "internal/hlc", "internal/secret"},
	"internal/archive":          {"internal/entry"},
	"internal/view":             {"internal/entry", "internal/group", "internal/hlc"},
	"internal/proto/negentropy": {},
	"internal/proto/hyparview":  {},
	"internal/proto/plumtree":   {},
	"internal/sim":              {"internal/proto/hyparview", "internal/proto/negentropy", "internal/proto/plumtree", "internal/proto/storage"},
	"internal/wire":             {"internal/entry", "internal/proto/hyparview", "internal/proto/plumtree"},
	"internal/gossip":           {"internal/entry", "internal/proto/hyparview", "internal/proto/plumtree", "internal/wire"},
	"internal/transport":        {},
	"internal/store":            {"internal/entry", "internal/group", "internal/hlc", "internal/view"},
	"internal/home":             {"internal/entry"},
	"internal/node":             {"internal/archive", "internal/blob", "internal/shards", "internal/proto/storage", "internal/entry", "internal/group", "internal/hlc", "internal/gossip", "internal/home", "internal/proto/negentropy", "internal/secret", "internal/store", "internal/transport", "internal/view", "internal/wire"},
	"internal/api":              {},
	"internal/dav":              {"internal/blob", "internal/entry", "internal/group", "internal/node", "internal/view"},
	"internal/metrics":          {"internal/node"},
	"internal/nntp":             {"internal/entry", "internal/group", "internal/node", "internal/store"},
	"internal/web":              {"internal/blob", "internal/entry", "internal/group", "internal/node", "internal/store", "internal/view"},
	"cmd/hearsay":               {"internal/api", "internal/blob", "internal/dav", "internal/entry", "internal/group", "internal/home", "internal/metrics", "internal/nntp", "internal/node", "internal/sim", "internal/store", "internal/view", "internal/web"},
}

// pure packages decide; they never touch the disk, the network or the clock.
var pure = []string{"internal/blob", "internal/proto/storage", "internal/hlc", "internal/entry", "internal/group", "internal/archive", "internal/view", "internal/secret", "internal/proto/negentropy", "internal/proto/hyparview", "internal/proto/plumtree", "internal/sim", "internal/wire"}

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
			}
		}
		return nil
	})
	if seen < len(allowed) {
		t.Errorf("found %d packages, the table names %d", seen, len(allowed))
	}
}
