package nntp

import (
	"mime"
	"strconv"
	"strings"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/node"
	"hearsay/internal/store"
)

// Mapping of a post to an article (docs/nntp.md).
const (
	msgDomain = "hearsay"
	// maxRefs bounds References: the root and the nearest ancestors, so the
	// header stays within RFC 5536's 998 octets while clients still thread.
	maxRefs = 12
	// maxDepth bounds the walk up a reply chain.
	maxDepth = 1000
	// maxCache bounds the ancestors a session remembers between commands.
	maxCache = 1 << 16
)

// overviewFields are OVER's fields after the number, as LIST OVERVIEW.FMT
// names them (RFC 3977 §8.4).
var overviewFields = []string{"Subject:", "From:", "Date:", "Message-ID:", "References:", ":bytes", ":lines", "Xref:full"}

func messageID(id entry.ID) string { return "<" + id.String() + "@" + msgDomain + ">" }

// parseMessageID reads an id from a message-id this gateway gave; ok is
// false for any other.
func parseMessageID(s string) (entry.ID, bool) {
	s, ok := strings.CutPrefix(s, "<")
	if !ok {
		return entry.ID{}, false
	}
	s, ok = strings.CutSuffix(s, "@"+msgDomain+">")
	if !ok {
		return entry.ID{}, false
	}
	id, err := entry.ParseID(s)
	return id, err == nil
}

// article is a post as a newsreader sees it: the overview fields, then on
// demand the body.
type article struct {
	store.Article
	author     string // the author's name, "" for none
	group      string // newsgroup name
	subject    string // with "Re: " and the thread's subject for a reply without one
	references []entry.ID
}

// thread resolves an article's subject and references by walking up its
// reply chain; ancestors are cached in the session across commands.
func (s *session) thread(arts *node.Articles, a store.Article) (article, error) {
	name, err := arts.AuthorName(a.Author)
	if err != nil {
		return article{}, err
	}
	out := article{Article: a, author: name, group: s.groupName, subject: a.Subject}
	// Replies arrive after their parents, mostly: over a range, the parents
	// are then in the cache by the time their replies ask.
	s.remember(a)
	var chain []entry.ID
	subject := a.Subject
	for p, depth := a.Parent, 0; !p.IsZero() && depth < maxDepth; depth++ {
		chain = append(chain, p)
		anc, ok, err := s.ancestor(arts, p)
		if err != nil {
			return out, err
		}
		if !ok {
			break // not held here (yet): the chain ends with the id
		}
		if subject == "" {
			subject = anc.Subject
		}
		p = anc.Parent
	}
	if out.subject == "" {
		switch {
		case subject == "":
			out.subject = "(no subject)"
		case len(chain) > 0:
			out.subject = "Re: " + subject
		}
	}
	// chain is nearest first; References are oldest first.
	for i := len(chain) - 1; i >= 0; i-- {
		out.references = append(out.references, chain[i])
	}
	if n := len(out.references); n > maxRefs {
		out.references = append(out.references[:1], out.references[n-maxRefs+1:]...)
	}
	return out, nil
}

func (s *session) ancestor(arts *node.Articles, id entry.ID) (store.Article, bool, error) {
	if a, ok := s.cache[id]; ok {
		return a, true, nil
	}
	a, ok, err := arts.ByID(id)
	if err != nil || !ok {
		return a, ok, err
	}
	s.remember(a)
	return a, true, nil
}

func (s *session) remember(a store.Article) {
	if len(s.cache) >= maxCache {
		clear(s.cache)
	}
	s.cache[a.ID] = a
}

// from names the author as hearsay shows it, "name (short id)", with the
// short id in the address too: a newsreader quotes From in its attribution
// line, which the full 64 digits would push past 80 columns.
// X-Hearsay-Author has them.
func (a article) from() string {
	addr := " <" + a.Author.Short() + "@" + msgDomain + ">"
	if a.author == "" {
		return a.Author.Short() + addr
	}
	name := a.author + " (" + a.Author.Short() + ")"
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 || name[i] < ' ' {
			return mime.QEncoding.Encode("utf-8", name) + addr
		}
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"` + addr
}

func date(a store.Article) string {
	return a.HLC.Time().Format(time.RFC1123Z)
}

// header encodes a header value: non-ASCII text as RFC 2047 words, and never
// a CR, LF or tab, which would break the head or an overview line.
func header(v string) string {
	v = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, v)
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", v)
		}
	}
	return v
}

func (a article) refs() string {
	ids := make([]string, len(a.references))
	for i, r := range a.references {
		ids[i] = messageID(r)
	}
	return strings.Join(ids, " ")
}

// body is the article's body as it is sent, before dot-stuffing: the post's
// text in CRLF lines.
func body(text string) string {
	if text == "" {
		return ""
	}
	return strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\r\n") + "\r\n"
}

// head is the article's header lines in order.
func (a article) head() [][2]string {
	h := [][2]string{
		{"Path", msgDomain + "!not-for-mail"},
		{"From", a.from()},
		{"Newsgroups", a.group},
		{"Subject", header(a.subject)},
		{"Date", date(a.Article)},
		{"Message-ID", messageID(a.ID)},
	}
	if len(a.references) > 0 {
		h = append(h, [2]string{"References", a.refs()})
	}
	return append(h,
		[2]string{"MIME-Version", "1.0"},
		[2]string{"Content-Type", "text/plain; charset=utf-8"},
		[2]string{"Content-Transfer-Encoding", "8bit"},
		[2]string{"Lines", strconv.Itoa(int(a.TextLines))},
		[2]string{"Xref", a.xref()},
		[2]string{"X-Hearsay-Author", a.Author.String()},
	)
}

// xref is the article's number on this node, as clients (tin) expect it in
// the overview to track what they have read.
func (a article) xref() string {
	return msgDomain + " " + a.group + ":" + strconv.FormatUint(a.Num, 10)
}

// bytes is the article's size in octets, head, blank line and body, as
// :bytes counts it. The body is the text with each LF made CRLF and a CRLF
// ending the last line; the record does not say whether the text ended
// with LF, so a text that did counts one octet more than is sent.
func (a article) bytes(head [][2]string) int {
	n := 2
	for _, h := range head {
		n += len(h[0]) + 2 + len(h[1]) + 2
	}
	if a.TextBytes > 0 {
		n += int(a.TextBytes) + int(a.TextLines) + 1
	}
	return n
}

// field is one header or metadata item by name (case-insensitive), for HDR;
// ok is false when the article has no such field.
func (a article) field(name string) (string, bool) {
	switch strings.ToLower(name) {
	case ":bytes":
		return strconv.Itoa(a.bytes(a.head())), true
	case ":lines":
		return strconv.Itoa(int(a.TextLines)), true
	}
	for _, h := range a.head() {
		if strings.EqualFold(h[0], name) {
			return h[1], true
		}
	}
	return "", false
}

// overview is the article's OVER line without its number.
func (a article) overview() string {
	h := a.head()
	refs := ""
	if len(a.references) > 0 {
		refs = h[6][1]
	}
	return h[3][1] + "\t" + h[1][1] + "\t" + h[4][1] + "\t" + h[5][1] + "\t" + refs + "\t" +
		strconv.Itoa(a.bytes(h)) + "\t" + strconv.Itoa(int(a.TextLines)) + "\tXref: " + a.xref()
}
