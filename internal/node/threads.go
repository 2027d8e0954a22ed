package node

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/store"
	"hearsay/internal/view"
)

// ThreadSummary is one thread of a group's forum: its root post, how many
// visible replies it has at any depth, and its latest activity.
type ThreadSummary struct {
	Root     ThreadPost    `json:"root"` // without replies
	Replies  int           `json:"replies"`
	Last     hlc.Timestamp `json:"last"`
	LastTime string        `json:"last_time"`
}

// ThreadPage is a page of a group's threads, latest activity first. Next is
// the cursor of the page after it, empty on the last.
type ThreadPage struct {
	Threads []ThreadSummary `json:"threads"`
	Next    string          `json:"next,omitempty"`
}

// MaxThreadPage bounds a page of threads.
const MaxThreadPage = 200

// ErrCursor is a cursor Threads did not give.
var ErrCursor = errors.New("bad cursor")

// threadRef is a thread in the index, before its root is read.
type threadRef struct {
	root    entry.ID
	replies int
	last    hlc.Timestamp // of its latest visible post; its root's while none is
	lit     bool          // a visible post is in it
}

// Threads returns up to limit threads of group gid in order of latest
// activity, starting after cursor ("" for the first page). A thread is a post
// with no parent held here and every post under it; a reply whose parent has
// not arrived starts a thread of its own until the parent does. Retracted,
// hidden and invalid posts keep their place in the tree but count as no
// activity; a withdrawn root shows with its status and no text.
func (n *Node) Threads(gid entry.ID, limit int, cursor string) (*ThreadPage, error) {
	if limit <= 0 || limit > MaxThreadPage {
		limit = MaxThreadPage
	}
	arts, err := n.NewsGroup(gid)
	if err != nil {
		return nil, err
	}
	refs, err := n.threads.get(arts)
	if err != nil {
		return nil, err
	}
	start := 0
	if cursor != "" {
		last, root, err := parseCursor(cursor)
		if err != nil {
			return nil, err
		}
		start, _ = slices.BinarySearchFunc(refs, threadRef{root: root, last: last}, compareThreads)
		if start < len(refs) && refs[start].root == root {
			start++
		}
	}
	names, err := n.NamesOf(arts.v)
	if err != nil {
		return nil, err
	}
	page := &ThreadPage{Threads: []ThreadSummary{}}
	end := min(start+limit, len(refs))
	for _, r := range refs[start:end] {
		e, err := n.Store.Get(gid, r.root)
		if err != nil {
			return nil, err
		}
		e = arts.keys.open(e)
		p, err := group.DecodePost(e)
		if err != nil {
			return nil, fmt.Errorf("thread %s: %w", r.root.Short(), err)
		}
		root := ThreadPost{ID: e.ID.String(), Author: e.Author.String(), AuthorName: names.Of(e.Author), HLC: uint64(e.HLC), Replies: []*ThreadPost{},
			Status: arts.v.StatusOf(e.Author, view.PosOf(e))}
		if root.Status == view.Visible {
			root.Subject, root.Text = p.Subject, p.Text
		}
		page.Threads = append(page.Threads, ThreadSummary{Root: root, Replies: r.replies, Last: r.last, LastTime: r.last.Time().Format(timeFormat)})
	}
	if end < len(refs) {
		r := refs[end-1]
		page.Next = strconv.FormatUint(uint64(r.last), 10) + "-" + r.root.String()
	}
	return page, nil
}

func parseCursor(c string) (hlc.Timestamp, entry.ID, error) {
	a, b, ok := strings.Cut(c, "-")
	last, err := strconv.ParseUint(a, 10, 64)
	if !ok || err != nil {
		return 0, entry.ID{}, fmt.Errorf("%w %q", ErrCursor, c)
	}
	root, err := entry.ParseID(b)
	if err != nil {
		return 0, entry.ID{}, fmt.Errorf("%w %q", ErrCursor, c)
	}
	return hlc.Timestamp(last), root, nil
}

// compareThreads orders by latest activity, newest first, then by root id.
func compareThreads(a, b threadRef) int {
	if c := cmp.Compare(b.last, a.last); c != 0 {
		return c
	}
	return strings.Compare(string(a.root[:]), string(b.root[:]))
}

// threadCache keeps the thread index of the groups last paged. An index is
// good while the group's entry count and highest article number stand; when
// the only new entries are articles (posts arriving) it is brought up to date
// with those alone, so a forum open on a large group follows new posts
// without reading the group again. Anything else new — a retraction, a
// membership change, a parent that arrives after its replies — rebuilds it.
type threadCache struct {
	mu     sync.Mutex
	groups map[entry.ID]*threadIndex
}

// maxThreadIndexes bounds the cache: a forum open in a few tabs.
const maxThreadIndexes = 4

type threadPost struct {
	parent, root entry.ID
	hlc          hlc.Timestamp
	visible      bool
}

type threadIndex struct {
	count, last uint64
	posts       map[entry.ID]threadPost
	byRoot      map[entry.ID]*threadRef
	orphans     map[entry.ID]bool // parents that replies name but that are not held
	refs        []threadRef       // byRoot in order
}

func (c *threadCache) get(arts *Articles) ([]threadRef, error) {
	g := arts.G.ID
	count, err := arts.n.Store.Count(g)
	if err != nil {
		return nil, err
	}
	last, err := arts.Last()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ix, ok := c.groups[g]
	switch {
	case ok && ix.count == count && ix.last == last:
		return ix.refs, nil
	case ok && count-ix.count == last-ix.last && last > ix.last:
		rebuild, err := ix.add(arts, ix.last+1, last)
		if err != nil {
			return nil, err
		}
		if !rebuild {
			ix.count, ix.last = count, last
			ix.sort()
			return ix.refs, nil
		}
	}
	ix = &threadIndex{count: count, last: last, posts: map[entry.ID]threadPost{}, byRoot: map[entry.ID]*threadRef{}, orphans: map[entry.ID]bool{}}
	if _, err := ix.add(arts, 1, last); err != nil {
		return nil, err
	}
	ix.sort()
	if c.groups == nil || len(c.groups) >= maxThreadIndexes {
		c.groups = map[entry.ID]*threadIndex{}
	}
	c.groups[g] = ix
	return ix.refs, nil
}

// add reads articles from through to into the index, in number order, so a
// parent that arrived first is found. rebuild is set when one of them is a
// parent that replies already held were waiting for: their threads merge,
// which add does not do.
func (ix *threadIndex) add(arts *Articles, from, to uint64) (rebuild bool, err error) {
	var bad error
	err = arts.n.Store.Articles(arts.G.ID, from, to, false, func(a store.Article) bool {
		a, isPost, err := arts.open(a)
		if bad = err; err != nil || !isPost {
			return err == nil
		}
		if ix.orphans[a.ID] {
			rebuild = true
			return false
		}
		p := threadPost{parent: a.Parent, root: a.ID, hlc: a.HLC,
			visible: arts.v.StatusOf(a.Author, view.Pos{HLC: a.HLC, ID: a.ID}) == view.Visible}
		if parent, held := ix.posts[a.Parent]; held && !a.Parent.IsZero() {
			p.root = parent.root
		} else if !a.Parent.IsZero() {
			ix.orphans[a.Parent] = true
		}
		ix.posts[a.ID] = p
		t, ok := ix.byRoot[p.root]
		if !ok {
			t = &threadRef{root: p.root, last: p.hlc} // sorts by its root until something in it is visible
			ix.byRoot[p.root] = t
		}
		if p.visible {
			if !t.lit {
				t.last, t.lit = p.hlc, true
			}
			t.last = max(t.last, p.hlc)
			if p.root != a.ID {
				t.replies++
			}
		}
		return true
	})
	return rebuild, errors.Join(err, bad)
}

// sort orders the threads into a new slice: callers may still hold the last.
func (ix *threadIndex) sort() {
	ix.refs = make([]threadRef, 0, len(ix.byRoot))
	for _, t := range ix.byRoot {
		ix.refs = append(ix.refs, *t)
	}
	slices.SortFunc(ix.refs, compareThreads)
}
