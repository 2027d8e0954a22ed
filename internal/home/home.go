// Package home manages a node's home directory: its Ed25519 identity, its
// configuration and where its store lives.
//
//	<home>/key.pem       PKCS #8 Ed25519 private key, mode 0600
//	<home>/config.json   settings (see Config)
//	<home>/store/        the Pebble store
package home

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"hearsay/internal/entry"
)

// Env names the environment variable that picks the home when --home is not given.
const Env = "HEARSAY_HOME"

const (
	keyFile    = "key.pem"
	configFile = "config.json"
	storeDir   = "store"
)

// ErrNoHome means the directory holds no identity: `hearsay init` makes one.
var ErrNoHome = errors.New("no hearsay home")

// Config holds a node's settings. Every field has a default, so an empty
// file is valid; unknown fields are refused to catch typos.
type Config struct {
	// Listen are the libp2p multiaddresses `serve` listens on.
	Listen []string `json:"listen"`
	// API is the host:port of the local HTTP API.
	API string `json:"api"`
	// Bootstrap are peers to dial on start.
	Bootstrap []string `json:"bootstrap"`
}

// DefaultConfig is what `init` writes.
func DefaultConfig() Config {
	return Config{
		Listen:    []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"},
		API:       "127.0.0.1:7420",
		Bootstrap: []string{},
	}
}

// Home is an opened home directory.
type Home struct {
	Dir    string
	Key    ed25519.PrivateKey
	Author entry.Author
	Config Config
}

// StoreDir is where the node's store lives.
func (h *Home) StoreDir() string { return filepath.Join(h.Dir, storeDir) }

// Resolve picks the home directory: the flag, else $HEARSAY_HOME, else ~/.hearsay.
func Resolve(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv(Env); env != "" {
		return env, nil
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory: set --home or %s", Env)
	}
	return filepath.Join(u, ".hearsay"), nil
}

// Init creates the home in dir with a new key and the default config, unless
// it already holds a key: an existing key is never overwritten. created
// reports whether a new identity was made.
func Init(dir string) (h *Home, created bool, err error) {
	if h, err := Open(dir); err == nil {
		return h, false, nil
	} else if !errors.Is(err, ErrNoHome) {
		return nil, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create home: %w", err)
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, false, err
	}
	cfg, err := json.MarshalIndent(DefaultConfig(), "", "  ")
	if err != nil {
		return nil, false, err
	}
	// The config first: a home is a home once its key exists.
	if err := writeNew(filepath.Join(dir, configFile), append(cfg, '\n'), 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, false, err
	}
	if err := writeNew(filepath.Join(dir, keyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, false, err
	}
	h = &Home{Dir: dir, Key: key, Config: DefaultConfig()}
	copy(h.Author[:], pub)
	if err := h.loadConfig(); err != nil { // an existing config was kept
		return nil, false, err
	}
	if err := os.MkdirAll(h.StoreDir(), 0o700); err != nil {
		return nil, false, err
	}
	return h, true, nil
}

// writeNew writes a file that must not exist yet, durably: O_EXCL makes a
// race between two inits lose cleanly instead of replacing a key.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Open loads the home in dir.
func Open(dir string) (*Home, error) {
	keyPath := filepath.Join(dir, keyFile)
	st, err := os.Stat(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s (run `hearsay init`)", ErrNoHome, dir)
	}
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key %s is accessible by others (mode %04o): run chmod 600 on it", keyPath, st.Mode().Perm())
	}
	b, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("key %s is not a PEM private key", keyPath)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key %s: %v", keyPath, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %s is not an Ed25519 key", keyPath)
	}
	h := &Home{Dir: dir, Key: key, Config: DefaultConfig()}
	copy(h.Author[:], key.Public().(ed25519.PublicKey))
	if err := h.loadConfig(); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *Home) loadConfig() error {
	path := filepath.Join(h.Dir, configFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h.Config); err != nil {
		return fmt.Errorf("config %s: %v", path, err)
	}
	return nil
}
