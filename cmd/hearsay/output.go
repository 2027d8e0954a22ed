package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/term"
)

// errBinaryTerminal refuses to print an export file on a terminal.
var errBinaryTerminal = errors.New("export is binary: give -o FILE or redirect standard output")

// writeOutput writes what write produces to path. A regular file, or a new
// one, is written beside it and renamed into place once synced, so a crash
// never leaves half a file under that name. Anything else is written
// through: renaming over a device or a pipe would replace it with a
// regular file, and over a symlink would replace the link, so a symlink's
// target gets the same treatment as if it were named.
func writeOutput(path string, write func(io.Writer) error) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		if ln, lerr := os.Lstat(path); lerr == nil && ln.Mode()&fs.ModeSymlink != 0 {
			return writeThrough(path, os.O_CREATE, write) // a dangling link: create what it names
		}
		target = path
	}
	st, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return writeAtomic(target, 0o644, write)
	case err != nil:
		return err
	case st.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case st.Mode().IsRegular():
		return writeAtomic(target, st.Mode().Perm(), write)
	}
	return writeThrough(target, 0, write)
}

// writeThrough opens path and writes to it, refusing a terminal.
func writeThrough(path string, flag int, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|flag, 0o644)
	if err != nil {
		return err
	}
	if term.IsTerminal(int(f.Fd())) {
		f.Close()
		return fmt.Errorf("%s is a terminal: %w", path, errBinaryTerminal)
	}
	err = write(f)
	return errors.Join(err, f.Close())
}

// writeAtomic writes a file beside path and renames it over path.
func writeAtomic(path string, mode fs.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}

// isTerminal reports whether w is a terminal (a device such as /dev/null
// is not).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
