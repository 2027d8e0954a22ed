package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestExportWritesThrough: `export -o PATH` renames a new file into place
// over a regular file only; a device node, a symlink (to a file, or
// dangling) and a fifo are written through and stay what they are.
func TestExportWritesThrough(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo"))
	must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "hello"))
	must(t, hearsay(t, dir, nil, "--home", "a", "export", g, "-o", "want.export"))
	want, err := os.ReadFile(filepath.Join(dir, "want.export"))
	if err != nil || len(want) == 0 {
		t.Fatal(err)
	}
	export := func(path string) {
		t.Helper()
		if r := hearsay(t, dir, nil, "--home", "a", "export", g, "-o", path); r.code != 0 {
			t.Fatalf("export -o %s: exit %d: %s", path, r.code, r.stderr)
		}
	}
	mode := func(path string) fs.FileMode {
		t.Helper()
		st, err := os.Lstat(filepath.Join(dir, path))
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode()
	}

	// A character device like /dev/null (1, 3), made here: it must stay one.
	if err := unix.Mknod(filepath.Join(dir, "null"), syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("mknod needs root: %v", err)
	}
	export("null")
	if m := mode("null"); m&fs.ModeCharDevice == 0 {
		t.Fatalf("the device became %v", m)
	}

	os.WriteFile(filepath.Join(dir, "target"), []byte("old"), 0o600)
	os.Symlink("target", filepath.Join(dir, "link"))
	export("link")
	if m := mode("link"); m&fs.ModeSymlink == 0 {
		t.Fatalf("the symlink became %v", m)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "target")); !bytes.Equal(got, want) || mode("target").Perm() != 0o600 {
		t.Fatalf("the symlink's target holds %d bytes, mode %v", len(got), mode("target"))
	}

	os.Symlink("created", filepath.Join(dir, "dangling"))
	export("dangling")
	if got, _ := os.ReadFile(filepath.Join(dir, "created")); mode("dangling")&fs.ModeSymlink == 0 || !bytes.Equal(got, want) {
		t.Fatalf("a dangling symlink: %v, its target holds %d bytes", mode("dangling"), len(got))
	}

	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan []byte)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			read <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		read <- b
	}()
	export("fifo")
	if got := <-read; !bytes.Equal(got, want) || mode("fifo")&fs.ModeNamedPipe == 0 {
		t.Fatalf("through the fifo: %d bytes, and it is now %v", len(got), mode("fifo"))
	}

	export("want.export") // a regular file is replaced whole, and nothing is left beside it
	if got, _ := os.ReadFile(filepath.Join(dir, "want.export")); !bytes.Equal(got, want) {
		t.Fatalf("the regular file holds %d bytes", len(got))
	}
	if r := hearsay(t, dir, nil, "--home", "a", "export", g, "-o", "a"); r.code != 1 || !strings.Contains(r.stderr, "is a directory") {
		t.Fatalf("export -o DIR: exit %d, %q", r.code, r.stderr)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Fatalf("left behind: %s", e.Name())
		}
	}
}
