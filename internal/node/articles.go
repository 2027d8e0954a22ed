package node

import (
	"errors"
	"fmt"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/store"
	"hearsay/internal/view"
)

// Articles reads one group's article index (store.Article) as a newsreader
// sees it: sealed records opened with the group's keys, and only visible
// posts — not other entries, nor what is retracted, hidden or written
// against the policy. It is a snapshot of membership and moderation as of
// NewsGroup; the index itself is read live.
type Articles struct {
	n     *Node
	G     *group.Group
	v     *view.View
	keys  *groupKeys
	names *Names // read on first use
}

// NewsGroup opens group gid's articles. For a private group whose key this
// node does not hold it returns ErrNoKey.
func (n *Node) NewsGroup(gid entry.ID) (*Articles, error) {
	v, err := n.View(gid)
	if err != nil {
		return nil, err
	}
	a := &Articles{n: n, G: v.G, v: v, keys: &groupKeys{}}
	if v.G.Read == group.ReadMembers {
		if a.keys, err = n.keys(gid); err != nil {
			return nil, err
		}
		if len(a.keys.byID) == 0 {
			return nil, fmt.Errorf("%w %q", ErrNoKey, v.G.Name)
		}
	}
	return a, nil
}

// MayPost reports whether this node's author may post to the group now.
func (a *Articles) MayPost() bool {
	me := a.n.Home.Author
	switch a.G.Write {
	case group.WriteOpen:
		return true
	case group.WriteMembers:
		for _, m := range a.v.Members().Members() {
			if m.Author == me {
				return true
			}
		}
		return false
	}
	return me == a.G.Owner
}

// AuthorName is author a's petname or display name in the group, "" for none.
func (a *Articles) AuthorName(author entry.Author) (string, error) {
	if a.names == nil {
		names, err := a.n.NamesOf(a.v)
		if err != nil {
			return "", err
		}
		a.names = names
	}
	return a.names.Of(author), nil
}

// Last is the highest article number given in the group; it only grows.
func (a *Articles) Last() (uint64, error) { return a.n.Store.LastArticle(a.G.ID) }

// Range calls fn with the articles numbered from through to, in number order
// (descending when backward), until fn returns false.
func (a *Articles) Range(from, to uint64, backward bool, fn func(store.Article) bool) error {
	var bad error
	err := a.n.Store.Articles(a.G.ID, from, to, backward, func(art store.Article) bool {
		art, ok, err := a.visible(art)
		if bad = err; err != nil {
			return false
		}
		return !ok || fn(art)
	})
	return errors.Join(err, bad)
}

// Get returns article num; ok is false when there is none to show.
func (a *Articles) Get(num uint64) (art store.Article, ok bool, err error) {
	err = a.Range(num, num, false, func(x store.Article) bool {
		art, ok = x, true
		return false
	})
	return art, ok, err
}

// ByID returns the article of entry id; ok is false when it has none to show.
func (a *Articles) ByID(id entry.ID) (art store.Article, ok bool, err error) {
	num, err := a.n.Store.ArticleNum(a.G.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Article{}, false, nil
	}
	if err != nil {
		return store.Article{}, false, err
	}
	return a.Get(num)
}

// Text is the text of an article's post.
func (a *Articles) Text(art store.Article) (string, error) {
	e, err := a.n.Store.Get(a.G.ID, art.ID)
	if err != nil {
		return "", err
	}
	p, err := group.DecodePost(a.keys.open(e))
	if err != nil {
		return "", fmt.Errorf("article %d: %w", art.Num, err)
	}
	return p.Text, nil
}

// visible opens a sealed record and says whether the article is a post to show.
func (a *Articles) visible(art store.Article) (store.Article, bool, error) {
	art, isPost, err := a.open(art)
	if err != nil || !isPost {
		return art, false, err
	}
	return art, a.v.StatusOf(art.Author, view.Pos{HLC: art.HLC, ID: art.ID}) == view.Visible, nil
}

// open fills a sealed record from what it hides; isPost is false when that
// is not a post, or this node cannot open it.
func (a *Articles) open(art store.Article) (store.Article, bool, error) {
	if !art.Sealed {
		return art, true, nil
	}
	e, err := a.n.Store.Get(a.G.ID, art.ID)
	if err != nil {
		return art, false, err
	}
	art, ok := store.ArticleOf(art, a.keys.open(e))
	return art, ok, nil
}
