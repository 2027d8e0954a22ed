package home

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startingFile marks a `serve` waiting for the store, so that short-lived
// commands leave the store to it and go through it once it serves.
const startingFile = "node.starting"

// StartingFor bounds how long a mark is believed: a serve waits this long
// at most for the store, so an older mark is a serve that died waiting
// (its process id may since have been reused).
const StartingFor = 15 * time.Second

// SetStarting marks this process as a serve starting on the home.
func (h *Home) SetStarting() error {
	return os.WriteFile(filepath.Join(h.Dir, startingFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
}

// ClearStarting removes the mark SetStarting made, unless another serve
// has marked the home since.
func (h *Home) ClearStarting() error {
	path := filepath.Join(h.Dir, startingFile)
	if b, err := os.ReadFile(path); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		return nil
	}
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Starting reports whether a serve is starting on dir: marked, recently,
// by a process that is alive.
func Starting(dir string) bool {
	path := filepath.Join(dir, startingFile)
	st, err := os.Stat(path)
	if err != nil || time.Since(st.ModTime()) > StartingFor {
		return false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && Alive(pid)
}

// Alive reports whether process pid exists.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
