package view

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// ErrNoPath is returned for a path that holds no live value.
var ErrNoPath = errors.New("no such path")

// Version is one put or rm of a directory path.
type Version struct {
	Path   string
	Op     string // group.OpPut or group.OpRm
	Author entry.Author
	At     Pos
	Status Status
}

// History lists every version of a path, newest first, with the status of
// each: nothing is ever deleted, an rm is a version too. A path never
// written is ErrNoPath.
func (v *View) History(path string) ([]Version, error) {
	var out []Version
	if err := v.versions(dirPath(v.G.ID, path), func(ver Version) { out = append(out, ver) }); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w %q", ErrNoPath, path)
	}
	slices.Reverse(out)
	return out, nil
}

// Get returns the latest visible version of a path and its value.
func (v *View) Get(path string) (Version, []byte, error) {
	var latest *Version
	err := v.versions(dirPath(v.G.ID, path), func(ver Version) {
		if ver.Status == Visible {
			latest = &ver
		}
	})
	if err != nil {
		return Version{}, nil, err
	}
	if latest == nil || latest.Op == group.OpRm {
		return Version{}, nil, fmt.Errorf("%w %q", ErrNoPath, path)
	}
	val, err := v.Value(*latest)
	return *latest, val, err
}

// VersionOf returns the version of path that entry id wrote, whatever its
// status, and ErrNoPath when id wrote none: an old value stays readable by
// its version's id, as History lists them.
func (v *View) VersionOf(path string, id entry.ID) (Version, error) {
	var found *Version
	err := v.versions(dirPath(v.G.ID, path), func(ver Version) {
		if ver.At.ID == id {
			found = &ver
		}
	})
	if err != nil {
		return Version{}, err
	}
	if found == nil {
		return Version{}, fmt.Errorf("%w %q at version %s (`dir history` lists its versions)", ErrNoPath, path, id.Short())
	}
	return *found, nil
}

// Value reads the value a put version wrote (nil for an rm, and for a
// large file, whose content lives in shards: see Op).
func (v *View) Value(ver Version) ([]byte, error) {
	op, err := v.Op(ver)
	return op.Value, err
}

// Op reads the whole operation a version wrote, a file's manifest included.
func (v *View) Op(ver Version) (group.DirOp, error) {
	e, err := v.r.Entry(ver.At.ID)
	if err != nil {
		return group.DirOp{}, err
	}
	return group.DecodeDirOp(e)
}

// Find lists the live paths that start with prefix, in path order, each with
// its latest visible version. It reads only the versions under the prefix.
func (v *View) Find(prefix string) ([]Version, error) {
	var out []Version
	var latest *Version
	flush := func() {
		if latest != nil && latest.Op == group.OpPut {
			out = append(out, *latest)
		}
		latest = nil
	}
	cur := ""
	err := v.versions(dirPrefix(v.G.ID, prefix), func(ver Version) {
		if ver.Path != cur {
			flush()
			cur = ver.Path
		}
		if ver.Status == Visible {
			latest = &ver
		}
	})
	flush()
	return out, err
}

func dirPrefix(g entry.ID, p string) []byte { return prefix(tagDir, g, []byte(p)) }

// versions calls fn with each version under a key prefix, in path then log order.
func (v *View) versions(p []byte, fn func(Version)) error {
	base := len(prefix(tagDir, v.G.ID))
	return v.r.Scan(p, func(k, val []byte) bool {
		i := bytes.IndexByte(k[base:], 0)
		if i < 0 {
			return true // not a version key; Apply writes none such
		}
		end := base + i
		ver := Version{Path: string(k[base:end]), Op: group.OpRm, Author: entry.Author(val[1:33]), At: readPos(k[end+1:])}
		if val[0] == opAdd {
			ver.Op = group.OpPut
		}
		ver.Status = v.StatusOf(ver.Author, ver.At)
		fn(ver)
		return true
	})
}
