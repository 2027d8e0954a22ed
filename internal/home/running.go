package home

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const (
	tokenFile   = "api.token"
	runningFile = "node.json"
	peersFile   = "peers.json"
)

// Peers reads the peers a node remembered, as multiaddresses ending in
// /p2p/<peer id>; none if it never saved any.
func (h *Home) Peers() []string {
	var out []string
	if b, err := os.ReadFile(filepath.Join(h.Dir, peersFile)); err == nil {
		json.Unmarshal(b, &out)
	}
	return out
}

// SavePeers remembers peers for the next start.
func (h *Home) SavePeers(addrs []string) error {
	b, err := json.MarshalIndent(addrs, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(h.Dir, peersFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(h.Dir, peersFile))
}

// Running describes the node serving this home, written by `serve` while
// it runs so that the CLI can reach it.
type Running struct {
	PID    int    `json:"pid"`
	APIURL string `json:"api_url"`
	PeerID string `json:"peer_id"`
}

// Token returns the API token, creating it (mode 0600) on first use.
func (h *Home) Token() (string, error) {
	path := filepath.Join(h.Dir, tokenFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	tok := hex.EncodeToString(raw)
	if err := writeNew(path, []byte(tok+"\n"), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process made it first
			return h.Token()
		}
		return "", err
	}
	return tok, nil
}

// SetRunning records the serving node; ClearRunning removes the record.
func (h *Home) SetRunning(r Running) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := filepath.Join(h.Dir, runningFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(h.Dir, runningFile))
}

// ClearRunning removes the record of a serving node.
func (h *Home) ClearRunning() error {
	err := os.Remove(filepath.Join(h.Dir, runningFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// ReadRunning returns the record of the node serving dir, if there is one.
// The record may be stale (the node was killed): callers confirm by
// reaching it.
func ReadRunning(dir string) (*Running, bool) {
	b, err := os.ReadFile(filepath.Join(dir, runningFile))
	if err != nil {
		return nil, false
	}
	var r Running
	if json.Unmarshal(b, &r) != nil || r.APIURL == "" {
		return nil, false
	}
	return &r, true
}

// ReadToken reads the API token without creating one.
func ReadToken(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, tokenFile))
	return strings.TrimSpace(string(b)), err
}
