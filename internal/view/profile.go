package view

import (
	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// Profiles returns each author's display name in the group: the latest of
// its profile entries that is visible (not retracted, hidden or written
// against the policy). Authors without one are absent.
func (v *View) Profiles() (map[entry.Author]group.Profile, error) {
	byAuthor := map[entry.Author][]Pos{}
	err := v.r.Scan(prefix(tagProfile, v.G.ID), func(k, _ []byte) bool {
		a := entry.Author(k[2+32 : 2+64])
		byAuthor[a] = append(byAuthor[a], readPos(k[len(k)-posLen:]))
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make(map[entry.Author]group.Profile, len(byAuthor))
	for a, ps := range byAuthor {
		for i := len(ps) - 1; i >= 0; i-- {
			if v.StatusOf(a, ps[i]) != Visible {
				continue
			}
			e, err := v.r.Entry(ps[i].ID)
			if err != nil {
				return nil, err
			}
			p, err := group.DecodeProfile(e)
			if err != nil {
				continue // sealed, and this reader cannot open it
			}
			out[a] = p
			break
		}
	}
	return out, nil
}

// ProfilesOf prefixes author a's profile entries in group g, visible or
// not: a writer's test of whether it signed one there yet.
func ProfilesOf(g entry.ID, a entry.Author) []byte { return prefix(tagProfile, g, a[:]) }
