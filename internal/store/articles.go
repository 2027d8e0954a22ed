package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"

	"github.com/cockroachdb/pebble/v2"
)

// The article index numbers a group's posts in the order this store received
// them, as NNTP requires of article numbers: a number never changes and a
// new post always gets a higher one, even when replication brings an entry
// older than those held. Sealed entries are numbered too, since a post may
// hide in one; whoever opens them skips those that are not posts. Each
// record carries what a newsreader's overview shows, so listing a range
// decodes no entry.
//
//	'a' group num(8)  → record      the articles, in arrival order
//	'r' group id      → num(8)      an entry's article number
//	'N' group         → num(8)      the highest number given; absent for a
//	                                store written before the index existed
const (
	tagArticle   = 'a'
	tagArticleOf = 'r'
	tagArticles  = 'N'
)

// Article is one record of the article index.
type Article struct {
	Num     uint64
	ID      entry.ID
	Arrived int64 // ms since the epoch, this store's clock
	// Sealed marks a sealed entry: the fields below are zero until whoever
	// holds the group's key opens it (ArticleOf).
	Sealed    bool
	HLC       hlc.Timestamp
	Author    entry.Author
	Parent    entry.ID // zero for a thread root
	Subject   string
	TextBytes uint32 // the post's text in bytes
	TextLines uint32 // and in lines
}

// ArticleOf fills the overview fields of a from post e; ok is false when e
// is not a post.
func ArticleOf(a Article, e *entry.Signed) (Article, bool) {
	if e.Kind != group.KindPost {
		return a, false
	}
	p, err := group.DecodePost(e)
	if err != nil {
		return a, false
	}
	return postArticle(a, e, p), true
}

// postArticle fills the overview fields of a from post e, whose body is p.
func postArticle(a Article, e *entry.Signed, p group.Post) Article {
	a.Sealed, a.HLC, a.Author, a.Parent, a.Subject = false, e.HLC, e.Author, group.ReplyTo(e), p.Subject
	a.TextBytes, a.TextLines = uint32(len(p.Text)), uint32(lines(p.Text))
	return a
}

// checkBody is group.CheckBody(e), which for a post is group.DecodePost;
// for a post it also returns the overview of its article record, so that
// Commit does not decode the body again.
func checkBody(e *entry.Signed) (*Article, error) {
	if e.Kind != group.KindPost {
		return nil, group.CheckBody(e)
	}
	p, err := group.DecodePost(e)
	if err != nil {
		return nil, err
	}
	a := postArticle(Article{ID: e.ID}, e, p)
	return &a, nil
}

func lines(text string) int {
	if text == "" {
		return 0
	}
	return strings.Count(strings.TrimSuffix(text, "\n"), "\n") + 1
}

const (
	recordPost   = 'p'
	recordSealed = 's'
	// kind(1) id(32) arrived(8), then for a post hlc(8) author(32) parent(32)
	// bytes(4) lines(4) subject
	recordHead  = 1 + 32 + 8
	recordPost0 = recordHead + 8 + 32 + 32 + 4 + 4
)

func (a Article) record() []byte {
	b := make([]byte, 0, recordPost0+len(a.Subject))
	kind := byte(recordPost)
	if a.Sealed {
		kind = recordSealed
	}
	b = append(append(append(b, kind), a.ID[:]...), u64(uint64(a.Arrived))...)
	if a.Sealed {
		return b
	}
	b = append(append(append(append(b, u64(uint64(a.HLC))...), a.Author[:]...), a.Parent[:]...), u32(a.TextBytes)...)
	return append(append(b, u32(a.TextLines)...), a.Subject...)
}

func readRecord(num uint64, v []byte) (Article, error) {
	if len(v) < recordHead || v[0] != recordPost && v[0] != recordSealed || v[0] == recordPost && len(v) < recordPost0 {
		return Article{}, fmt.Errorf("%w: article record of %d bytes", ErrCorrupt, len(v))
	}
	a := Article{Num: num, ID: entry.ID(v[1:33]), Arrived: int64(binary.BigEndian.Uint64(v[33:41])), Sealed: v[0] == recordSealed}
	if a.Sealed {
		return a, nil
	}
	p := v[recordHead:]
	a.HLC = hlc.Timestamp(binary.BigEndian.Uint64(p))
	a.Author, a.Parent = entry.Author(p[8:40]), entry.ID(p[40:72])
	a.TextBytes, a.TextLines = binary.BigEndian.Uint32(p[72:]), binary.BigEndian.Uint32(p[76:])
	a.Subject = string(p[80:])
	return a, nil
}

func articleKey(g entry.ID, num uint64) []byte { return key(tagArticle, g[:], u64(num)) }

// article numbers e when it may be an article: a post, or a sealed entry.
// overview is the post's record as checkBody made it, or nil.
func (c *commit) article(gid entry.ID, e *entry.Signed, overview *Article) error {
	a := Article{ID: e.ID}
	switch {
	case e.Kind == group.KindSealed:
		a.Sealed = true
	case e.Kind == group.KindPost && overview != nil:
		a = *overview
	case e.Kind == group.KindPost:
		var ok bool
		if a, ok = ArticleOf(a, e); !ok {
			return fmt.Errorf("%w: post %s does not decode", entry.ErrMalformed, e.ID.Short())
		}
	default:
		return nil
	}
	a.Arrived = c.nowMs
	last, err := c.lastArticle(gid)
	if err != nil {
		return err
	}
	a.Num = last + 1
	c.articles[gid] = a.Num
	c.set(articleKey(gid, a.Num), a.record())
	c.set(key(tagArticleOf, gid[:], e.ID[:]), u64(a.Num))
	return nil
}

// lastArticle is the group's highest article number, with this batch.
func (c *commit) lastArticle(gid entry.ID) (uint64, error) {
	if n, ok := c.articles[gid]; ok {
		return n, nil
	}
	n, err := c.s.LastArticle(gid)
	c.articles[gid] = n
	return n, err
}

// LastArticle is the highest article number given in group g, 0 for none.
func (s *Store) LastArticle(g entry.ID) (uint64, error) {
	v, err := s.get(key(tagArticles, g[:]))
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: article count of %d bytes", ErrCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// ArticleNum is the article number of entry id in group g; ErrNotFound when
// it has none (it is not held, or not a post).
func (s *Store) ArticleNum(g, id entry.ID) (uint64, error) {
	v, err := s.get(key(tagArticleOf, g[:], id[:]))
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: article number of %d bytes", ErrCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Articles calls fn with the records numbered from through to, in number
// order (descending when backward), until fn returns false.
func (s *Store) Articles(g entry.ID, from, to uint64, backward bool, fn func(Article) bool) error {
	if from > to {
		return nil
	}
	lo := articleKey(g, from)
	hi := prefixEnd(articleKey(g, to))
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	step, ok := it.Next, it.First()
	if backward {
		step, ok = it.Prev, it.Last()
	}
	for ; ok; ok = step() {
		k := it.Key()
		a, err := readRecord(binary.BigEndian.Uint64(k[len(k)-8:]), it.Value())
		if err != nil {
			return err
		}
		if !fn(a) {
			break
		}
	}
	return it.Error()
}

// indexArticles numbers the posts and sealed entries of every group that
// has no article index yet, in log order: a store written before the index
// existed gets one when it is first opened. The arrival time of those is
// their own time.
func (s *Store) indexArticles() error {
	gs, err := s.Groups()
	if err != nil {
		return err
	}
	for _, g := range gs {
		if ok, err := s.has(key(tagArticles, g.ID[:])); err != nil || ok {
			if err != nil {
				return err
			}
			continue
		}
		b := s.db.NewBatch()
		var num uint64
		var bad error
		err := s.Log(g.ID, func(e *entry.Signed) bool {
			a := Article{ID: e.ID, Arrived: e.HLC.Millis(), Sealed: e.Kind == group.KindSealed}
			if !a.Sealed {
				var ok bool
				if a, ok = ArticleOf(a, e); !ok {
					return true
				}
			}
			num++
			a.Num = num
			bad = errors.Join(b.Set(articleKey(g.ID, num), a.record(), nil),
				b.Set(key(tagArticleOf, g.ID[:], e.ID[:]), u64(num), nil))
			return bad == nil
		})
		if err = errors.Join(err, bad, b.Set(key(tagArticles, g.ID[:]), u64(num), nil)); err == nil {
			err = s.durably(func() error { return b.Commit(pebble.Sync) })
		}
		b.Close()
		if err != nil {
			return fmt.Errorf("index the articles of %s: %w", g.ID.Short(), err)
		}
	}
	return nil
}
