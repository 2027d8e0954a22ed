package dav

import (
	"net/http"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/view"
)

// request is what the file system calls of one HTTP request share: the
// group folders and the directory views read so far, so that a listing
// reads each group once and every call sees the same state, and why the
// last operation failed.
type request struct {
	folders []*folder // nil until read
	views   map[entry.ID]*snapshot
	failure *failure
	bodyErr error  // the request body broke off
	version string // ?version= of a GET or HEAD: an old version to read
}

// folder is a group as the root lists it.
type folder struct {
	name string
	g    *group.Group
}

// loc is a resolved name: the root (f nil), a group's folder (path ""), or
// a directory path in a group, valid by group.CheckPath.
type loc struct {
	f    *folder
	path string
}

// FolderName is the folder a group appears as: its name, with the path
// separators a client would split on replaced, and the first 12 hex digits
// of its id, which tell apart groups of the same name.
func FolderName(g *group.Group) string {
	return strings.NewReplacer("/", "_", `\`, "_").Replace(g.Name) + "-" + g.ID.String()[:12]
}

// folders lists the replicated groups by folder name. Two groups whose
// folder names collide (the same name and 48 bits of id) both appear under
// their full id instead, so that no name is ambiguous.
func (fs *FS) folders(rq *request) ([]*folder, error) {
	if rq.folders != nil {
		return rq.folders, nil
	}
	gs, err := fs.n.Replicated()
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for _, g := range gs {
		seen[FolderName(g)]++
	}
	out := []*folder{}
	for _, g := range gs {
		name := FolderName(g)
		if seen[name] > 1 {
			name = strings.TrimSuffix(name, g.ID.String()[:12]) + g.ID.String()
		}
		out = append(out, &folder{name, g})
	}
	slices.SortFunc(out, func(a, b *folder) int { return strings.Compare(a.name, b.name) })
	rq.folders = out
	return out, nil
}

// resolve finds what a name (a slash-separated path from the root) names.
// An unknown group is os.ErrNotExist; a path no group could hold fails with
// 400.
func (fs *FS) resolve(rq *request, name string) (loc, error) {
	name = strings.Trim(path.Clean("/"+name), "/")
	if name == "" {
		return loc{}, nil
	}
	top, rest, _ := strings.Cut(name, "/")
	fds, err := fs.folders(rq)
	if err != nil {
		return loc{}, err
	}
	i := slices.IndexFunc(fds, func(f *folder) bool { return f.name == top })
	if i < 0 {
		return loc{}, os.ErrNotExist
	}
	if rest != "" {
		if err := group.CheckPath(rest); err != nil {
			return loc{}, rq.fail(http.StatusBadRequest, os.ErrInvalid, err.Error())
		}
	}
	return loc{fds[i], rest}, nil
}

// snapshot is one group's directory as a request reads it.
type snapshot struct {
	v     *view.View
	finds map[string][]view.Version // view.Find's answers, by prefix
	sizes map[entry.ID]int64        // value sizes, by version
}

func (fs *FS) snapshot(rq *request, g *group.Group) (*snapshot, error) {
	if s, ok := rq.views[g.ID]; ok {
		return s, nil
	}
	v, err := fs.n.View(g.ID)
	if err != nil {
		return nil, err
	}
	s := &snapshot{v: v, finds: map[string][]view.Version{}, sizes: map[entry.ID]int64{}}
	if rq.views == nil {
		rq.views = map[entry.ID]*snapshot{}
	}
	rq.views[g.ID] = s
	return s, nil
}

// changed forgets what a request read of a group it has just written to.
func (rq *request) changed(g entry.ID) { delete(rq.views, g) }

// find lists the live paths under prefix, in path order. An answer for a
// shorter prefix already holds it: a listing's children cost no new read.
func (s *snapshot) find(prefix string) ([]view.Version, error) {
	for p, vs := range s.finds {
		if strings.HasPrefix(prefix, p) {
			return within(vs, prefix), nil
		}
	}
	vs, err := s.v.Find(prefix)
	if err != nil {
		return nil, err
	}
	s.finds[prefix] = vs
	return vs, nil
}

// within is the run of vs (sorted by path) whose paths start with prefix.
func within(vs []view.Version, prefix string) []view.Version {
	i := sort.Search(len(vs), func(i int) bool { return vs[i].Path >= prefix })
	j := i
	for j < len(vs) && strings.HasPrefix(vs[j].Path, prefix) {
		j++
	}
	return vs[i:j]
}

func (s *snapshot) size(ver view.Version) (int64, error) {
	if n, ok := s.sizes[ver.At.ID]; ok {
		return n, nil
	}
	op, err := s.v.Op(ver)
	size := int64(len(op.Value))
	if op.File != nil {
		size = int64(op.File.Size)
	}
	s.sizes[ver.At.ID] = size
	return size, err
}

// stat describes what l names, or returns os.ErrNotExist. A path that is
// both a file and a folder (replicas may write "a" and "a/b") is a folder:
// its children stay reachable, and `hearsay dir get` still reads "a".
func (fs *FS) stat(rq *request, l loc) (*info, error) {
	switch {
	case l.f == nil:
		return &info{name: "/", dir: true, mod: fs.started}, nil
	case l.path == "":
		return &info{name: l.f.name, dir: true, mod: l.f.g.Created.Time()}, nil
	}
	s, err := fs.snapshot(rq, l.f.g)
	if err != nil {
		return nil, err
	}
	under, err := s.find(l.path + "/")
	if err != nil {
		return nil, err
	}
	if len(under) > 0 {
		return &info{name: path.Base(l.path), dir: true, mod: newest(under)}, nil
	}
	if at, ok := fs.isEmptyFolder(l.f.g.ID, l.path); ok {
		return &info{name: path.Base(l.path), dir: true, mod: at}, nil
	}
	vs, err := s.find(l.path)
	if err != nil {
		return nil, err
	}
	if i, ok := slices.BinarySearchFunc(vs, l.path, func(v view.Version, p string) int { return strings.Compare(v.Path, p) }); ok {
		return s.fileInfo(path.Base(l.path), vs[i])
	}
	return nil, os.ErrNotExist
}

func (s *snapshot) fileInfo(name string, ver view.Version) (*info, error) {
	size, err := s.size(ver)
	if err != nil {
		return nil, err
	}
	return &info{name: name, size: size, mod: ver.At.HLC.Time(), version: ver.At.ID}, nil
}

func newest(vs []view.Version) time.Time {
	var max view.Version
	for _, v := range vs {
		if v.At.HLC > max.At.HLC {
			max = v
		}
	}
	return max.At.HLC.Time()
}

// list describes the children of the folder l names, by name.
func (fs *FS) list(rq *request, l loc) ([]os.FileInfo, error) {
	var out []os.FileInfo
	if l.f == nil {
		fds, err := fs.folders(rq)
		if err != nil {
			return nil, err
		}
		for _, f := range fds {
			out = append(out, &info{name: f.name, dir: true, mod: f.g.Created.Time()})
		}
		return out, nil
	}
	s, err := fs.snapshot(rq, l.f.g)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if l.path != "" {
		prefix = l.path + "/"
	}
	vs, err := s.find(prefix)
	if err != nil {
		return nil, err
	}
	byName := map[string]*info{}
	for i := 0; i < len(vs); {
		name, _, deeper := strings.Cut(vs[i].Path[len(prefix):], "/")
		if deeper {
			sub := within(vs[i:], prefix+name+"/")
			byName[name] = &info{name: name, dir: true, mod: newest(sub)}
			i += len(sub)
			continue
		}
		if byName[name] == nil { // a folder of the same name wins
			fi, err := s.fileInfo(name, vs[i])
			if err != nil {
				return nil, err
			}
			byName[name] = fi
		}
		i++
	}
	for p, at := range fs.emptyFolders(l.f.g.ID, l.path) {
		if name := path.Base(p); byName[name] == nil || !byName[name].dir {
			byName[name] = &info{name: name, dir: true, mod: at}
		}
	}
	for _, fi := range byName {
		out = append(out, fi)
	}
	slices.SortFunc(out, func(a, b os.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}
