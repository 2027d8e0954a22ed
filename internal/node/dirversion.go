package node

import (
	"fmt"

	"hearsay/internal/group"
	"hearsay/internal/view"
)

// DirVersion is the version of path that version names (an entry id or a
// unique prefix of one, as `dir history` lists them; empty: the latest
// visible version) and the operation it wrote. A version that removed the
// path has no value to read: view.ErrNoPath.
func (n *Node) DirVersion(v *view.View, path, version string) (view.Version, group.DirOp, error) {
	var ver view.Version
	if version == "" {
		var err error
		if ver, _, err = v.Get(path); err != nil {
			return ver, group.DirOp{}, err
		}
	} else {
		id, err := n.ResolveEntry(v.G.ID, version)
		if err != nil {
			return ver, group.DirOp{}, fmt.Errorf("version: %w", err)
		}
		if ver, err = v.VersionOf(path, id); err != nil {
			return ver, group.DirOp{}, err
		}
		if ver.Op == group.OpRm {
			return ver, group.DirOp{}, fmt.Errorf("%w %q at version %s: that version removed it", view.ErrNoPath, path, id.Short())
		}
	}
	op, err := v.Op(ver)
	return ver, op, err
}
