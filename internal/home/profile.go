package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const (
	profileFile  = "profile.json"
	petnamesFile = "petnames.json"
)

// Profile is the display name (and a short description) this node's author
// signs into the groups it writes to.
type Profile struct {
	Name  string `json:"name"`
	About string `json:"about,omitempty"`
}

// Profile reads the profile the author set; ok is false when none was.
func (h *Home) Profile() (p Profile, ok bool, err error) {
	ok, err = readJSON(filepath.Join(h.Dir, profileFile), &p)
	return p, ok && p.Name != "", err
}

// SaveProfile replaces the profile.
func (h *Home) SaveProfile(p Profile) error { return writeJSON(filepath.Join(h.Dir, profileFile), p) }

// Petnames are the names this node's user gave authors, by author id (hex):
// local, never signed or sent.
func (h *Home) Petnames() (map[string]string, error) {
	names := map[string]string{}
	_, err := readJSON(filepath.Join(h.Dir, petnamesFile), &names)
	return names, err
}

// SavePetnames replaces the petnames.
func (h *Home) SavePetnames(names map[string]string) error {
	return writeJSON(filepath.Join(h.Dir, petnamesFile), names)
}

// readJSON decodes a file of the home; ok is false when it does not exist.
func readJSON(path string, v any) (ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// writeJSON replaces a file of the home whole: written beside it, fsynced
// and renamed into place, so a crash leaves the old content or the new.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
