package home

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

const bansFile = "bans.json"

// Ban is a peer a node banned: until when, and how many times it was
// banned, which lengthens the next ban.
type Ban struct {
	Peer  string    `json:"peer_id"`
	Until time.Time `json:"until"`
	Count int       `json:"count"`
}

// Bans reads the bans a node saved; none if it never saved any or the file
// does not parse (bans are a defence, not data: losing them costs a peer's
// misbehaving again).
func (h *Home) Bans() []Ban {
	var out []Ban
	if b, err := os.ReadFile(filepath.Join(h.Dir, bansFile)); err == nil {
		json.Unmarshal(b, &out)
	}
	return out
}

// SaveBans replaces the saved bans. The file is written whole and renamed
// into place after an fsync, so a crash leaves the old list or the new
// one, never a torn file.
func (h *Home) SaveBans(bans []Ban) error { return writeJSON(filepath.Join(h.Dir, bansFile), bans) }
