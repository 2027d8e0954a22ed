package home

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestInitTwiceKeepsTheKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "h")
	h, created, err := Init(dir)
	if err != nil || !created {
		t.Fatalf("Init: %v, created %v", err, created)
	}
	st, err := os.Stat(filepath.Join(dir, keyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v, %v", st.Mode().Perm(), err)
	}
	h2, created, err := Init(dir)
	if err != nil || created || h2.Author != h.Author {
		t.Fatalf("second Init: %v, created %v, same author %v", err, created, h2.Author == h.Author)
	}
	if len(h2.Config.Listen) == 0 || h2.Config.API == "" {
		t.Fatalf("default config not loaded: %+v", h2.Config)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrNoHome) {
		t.Fatalf("empty dir: %v", err)
	}
	dir := t.TempDir()
	if _, _, err := Init(dir); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, keyFile), 0o644)
	if _, err := Open(dir); err == nil {
		t.Fatal("a world-readable key was accepted")
	}
	os.Chmod(filepath.Join(dir, keyFile), 0o600)
	os.WriteFile(filepath.Join(dir, configFile), []byte(`{"lisen": []}`), 0o600)
	if _, err := Open(dir); err == nil {
		t.Fatal("a config with an unknown field was accepted")
	}
}

func TestResolve(t *testing.T) {
	t.Setenv(Env, "/from/env")
	if d, _ := Resolve("/from/flag"); d != "/from/flag" {
		t.Fatalf("flag: %s", d)
	}
	if d, _ := Resolve(""); d != "/from/env" {
		t.Fatalf("env: %s", d)
	}
	t.Setenv(Env, "")
	t.Setenv("HOME", "/u")
	if d, _ := Resolve(""); d != "/u/.hearsay" {
		t.Fatalf("default: %s", d)
	}
}
