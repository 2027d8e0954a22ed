package nntp

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"hearsay/internal/group"
	"hearsay/internal/node"
	"hearsay/internal/store"
)

// command runs one command line and writes its response; errQuit or a
// write error ends the session.
func (ss *session) command(line string) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		ss.reply(500, "empty command")
		return nil
	}
	verb, args := strings.ToUpper(f[0]), f[1:]
	switch verb {
	case "CAPABILITIES":
		return ss.capabilities()
	case "QUIT":
		ss.reply(205, "bye")
		return errQuit
	case "AUTHINFO":
		return ss.authinfo(args)
	case "MODE":
		if len(args) != 1 || !strings.EqualFold(args[0], "READER") {
			ss.reply(501, "MODE READER is the only mode")
			return nil
		}
		ss.reply(200, "reader mode, posting allowed after AUTHINFO")
		return nil
	}
	if !ss.authed {
		ss.reply(480, "authentication required: AUTHINFO USER any-name, then AUTHINFO PASS with the node's API token")
		return nil
	}
	var err error
	switch verb {
	case "DATE":
		ss.reply(111, ss.s.now().UTC().Format("20060102150405"))
	case "HELP":
		ss.reply(100, "commands follow")
		ss.lines("CAPABILITIES", "MODE READER", "AUTHINFO USER name | PASS token", "DATE", "LIST [ACTIVE|NEWSGROUPS [wildmat]|OVERVIEW.FMT|HEADERS]",
			"GROUP name", "LISTGROUP [name [range]]", "NEXT", "LAST", "ARTICLE|HEAD|BODY|STAT [number|<message-id>]",
			"OVER|XOVER [range|<message-id>]", "HDR|XHDR field [range|<message-id>]", "NEWGROUPS yymmdd hhmmss [GMT]",
			"NEWNEWS wildmat yymmdd hhmmss [GMT]", "POST", "QUIT")
	case "LIST":
		err = ss.list(args)
	case "GROUP":
		err = ss.group(args, false)
	case "LISTGROUP":
		err = ss.group(args, true)
	case "NEXT", "LAST":
		err = ss.step(verb == "NEXT", args)
	case "ARTICLE", "HEAD", "BODY", "STAT":
		err = ss.article(verb, args)
	case "OVER", "XOVER":
		err = ss.over(args)
	case "HDR", "XHDR":
		err = ss.hdr(verb, args)
	case "NEWGROUPS":
		err = ss.newgroups(args)
	case "NEWNEWS":
		err = ss.newnews(args)
	case "POST":
		err = ss.post(args)
	default:
		ss.reply(500, "unknown command "+verb)
	}
	if err != nil && !errors.Is(err, errQuit) {
		// A store error: the client hears of it, and the session goes on.
		ss.reply(403, err.Error())
		return nil
	}
	return err
}

func (ss *session) capabilities() error {
	ss.reply(101, "capability list follows")
	caps := []string{"VERSION 2", "READER", "POST", "OVER MSGID", "HDR", "NEWNEWS",
		"LIST ACTIVE NEWSGROUPS OVERVIEW.FMT HEADERS", "IMPLEMENTATION hearsay"}
	if !ss.authed {
		caps = append(caps, "AUTHINFO USER")
	}
	ss.lines(caps...)
	return nil
}

func (ss *session) authinfo(args []string) error {
	if ss.authed {
		ss.reply(502, "already authenticated")
		return nil
	}
	if len(args) != 2 {
		ss.reply(501, "AUTHINFO USER name, then AUTHINFO PASS token")
		return nil
	}
	switch strings.ToUpper(args[0]) {
	case "USER":
		ss.user = args[1]
		ss.reply(381, "password required")
	case "PASS":
		if ss.user == "" {
			ss.reply(482, "AUTHINFO USER first")
			return nil
		}
		if !ss.checkPassword(args[1]) {
			ss.fails++
			ss.reply(481, "authentication failed: the password is the node's API token (<home>/api.token)")
			if ss.fails >= ss.s.limits.AuthTries {
				return errQuit
			}
			return nil
		}
		ss.authed = true
		ss.reply(281, "authentication accepted")
	default:
		ss.reply(501, "AUTHINFO USER and PASS only")
	}
	return nil
}

// newsgroup is a group a reader may open.
type newsgroup struct {
	name string
	arts *node.Articles
}

// readable lists the groups this node replicates and can read, by name.
func (ss *session) readable() ([]newsgroup, error) {
	gs, err := ss.s.n.Replicated()
	if err != nil {
		return nil, err
	}
	var out []newsgroup
	for _, g := range gs {
		arts, err := ss.s.n.NewsGroup(g.ID)
		if errors.Is(err, node.ErrNoKey) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, newsgroup{Name(g), arts})
	}
	return out, nil
}

func (ss *session) find(name string) (newsgroup, bool, error) {
	gs, err := ss.readable()
	for _, g := range gs {
		if g.name == name {
			return g, true, nil
		}
	}
	return newsgroup{}, false, err
}

// marks are a group's estimated count and its low and high water marks
// (RFC 3977 §6.1.1.2): high is the highest number given, so it never goes
// down; low is the first article shown; an empty group has low = high+1.
func marks(arts *node.Articles) (count, low, high uint64, err error) {
	if high, err = arts.Last(); err != nil {
		return 0, 0, 0, err
	}
	low = high + 1
	err = arts.Range(1, high, false, func(a store.Article) bool {
		low = a.Num
		return false
	})
	if low <= high {
		count = high - low + 1
	}
	return count, low, high, err
}

func (ss *session) activeLine(g newsgroup) (string, error) {
	_, low, high, err := marks(g.arts)
	status := "n"
	if g.arts.MayPost() {
		status = "y"
	}
	return fmt.Sprintf("%s %d %d %s", g.name, high, low, status), err
}

func (ss *session) list(args []string) error {
	what := "ACTIVE"
	if len(args) > 0 {
		what = strings.ToUpper(args[0])
	}
	pattern := "*"
	if len(args) > 1 {
		pattern = args[1]
	}
	switch what {
	case "OVERVIEW.FMT":
		ss.reply(215, "order of fields in overview database")
		ss.lines(overviewFields...)
		return nil
	case "HEADERS":
		ss.reply(215, "headers and metadata items supported")
		ss.lines(":", ":bytes", ":lines")
		return nil
	case "ACTIVE", "NEWSGROUPS":
	default:
		ss.reply(501, "LIST ACTIVE, NEWSGROUPS, OVERVIEW.FMT or HEADERS")
		return nil
	}
	gs, err := ss.readable()
	if err != nil {
		return err
	}
	var out []string
	for _, g := range gs {
		if !wildmat(pattern, g.name) {
			continue
		}
		if what == "NEWSGROUPS" {
			out = append(out, g.name+"\t"+header(g.arts.G.Name)+" (hearsay group "+g.arts.G.ID.String()+")")
			continue
		}
		l, err := ss.activeLine(g)
		if err != nil {
			return err
		}
		out = append(out, l)
	}
	if what == "NEWSGROUPS" {
		ss.reply(215, "descriptions follow")
	} else {
		ss.reply(215, "list of newsgroups follows")
	}
	ss.lines(out...)
	return nil
}

// group runs GROUP, or LISTGROUP with list set.
func (ss *session) group(args []string, list bool) error {
	if len(args) == 0 && list {
		if ss.arts == nil {
			ss.reply(412, "no newsgroup selected")
			return nil
		}
		args = []string{ss.groupName}
	}
	if len(args) == 0 || len(args) > 2 || !list && len(args) != 1 {
		ss.reply(501, "GROUP name, or LISTGROUP [name [range]]")
		return nil
	}
	g, ok, err := ss.find(args[0])
	if err != nil {
		return err
	}
	if !ok {
		ss.reply(411, "no such newsgroup")
		return nil
	}
	count, low, high, err := marks(g.arts)
	if err != nil {
		return err
	}
	from, to := low, high
	if len(args) == 2 {
		if from, to, ok = parseRange(args[1], high); !ok {
			ss.reply(501, "a range: n, n- or n-m")
			return nil
		}
	}
	if g.name != ss.groupName {
		clear(ss.cache)
	}
	ss.arts, ss.groupName, ss.cur = g.arts, g.name, 0
	if count > 0 {
		ss.cur = low
	}
	ss.reply(211, fmt.Sprintf("%d %d %d %s", count, low, high, g.name))
	if !list {
		return nil
	}
	var nums []string
	err = g.arts.Range(from, to, false, func(a store.Article) bool {
		nums = append(nums, strconv.FormatUint(a.Num, 10))
		return true
	})
	ss.lines(nums...)
	return err
}

// parseRange reads "n", "n-" or "n-m"; "n-" runs to high.
func parseRange(s string, high uint64) (from, to uint64, ok bool) {
	a, b, dash := strings.Cut(s, "-")
	from, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if !dash {
		return from, from, true
	}
	if b == "" {
		return from, max(high, from), true
	}
	to, err = strconv.ParseUint(b, 10, 64)
	return from, to, err == nil
}

func (ss *session) step(next bool, args []string) error {
	if len(args) != 0 {
		ss.reply(501, "no arguments")
		return nil
	}
	if ss.arts == nil {
		ss.reply(412, "no newsgroup selected")
		return nil
	}
	if ss.cur == 0 {
		ss.reply(420, "no current article")
		return nil
	}
	var found *store.Article
	var err error
	take := func(a store.Article) bool { found = &a; return false }
	if next {
		var last uint64
		if last, err = ss.arts.Last(); err == nil {
			err = ss.arts.Range(ss.cur+1, last, false, take)
		}
	} else if ss.cur > 1 {
		err = ss.arts.Range(1, ss.cur-1, true, take)
	}
	switch {
	case err != nil:
		return err
	case found == nil && next:
		ss.reply(421, "no next article in this group")
	case found == nil:
		ss.reply(422, "no previous article in this group")
	default:
		ss.cur = found.Num
		ss.reply(223, fmt.Sprintf("%d %s", found.Num, messageID(found.ID)))
	}
	return nil
}

// selected is the article an ARTICLE-like command names: the current one,
// a number in the selected group, or a message-id in any group. When
// ok is false the error response is written.
func (ss *session) selected(args []string) (a article, arts *node.Articles, byID bool, ok bool, err error) {
	if len(args) > 1 {
		ss.reply(501, "one article number or message-id")
		return a, nil, false, false, nil
	}
	if len(args) == 1 && strings.HasPrefix(args[0], "<") {
		id, valid := parseMessageID(args[0])
		if !valid {
			ss.reply(430, "no article with that message-id")
			return a, nil, true, false, nil
		}
		gs, err := ss.readable()
		if err != nil {
			return a, nil, true, false, err
		}
		for _, g := range gs {
			art, found, err := g.arts.ByID(id)
			if err != nil {
				return a, nil, true, false, err
			}
			if found {
				saved := ss.groupName
				ss.groupName = g.name
				a, err = ss.thread(g.arts, art)
				ss.groupName = saved
				return a, g.arts, true, err == nil, err
			}
		}
		ss.reply(430, "no article with that message-id")
		return a, nil, true, false, nil
	}
	if ss.arts == nil {
		ss.reply(412, "no newsgroup selected")
		return a, nil, false, false, nil
	}
	num := ss.cur
	if len(args) == 1 {
		n, perr := strconv.ParseUint(args[0], 10, 64)
		if perr != nil {
			ss.reply(501, "an article number or a <message-id>")
			return a, nil, false, false, nil
		}
		num = n
	} else if num == 0 {
		ss.reply(420, "no current article")
		return a, nil, false, false, nil
	}
	art, found, err := ss.arts.Get(num)
	if err != nil {
		return a, nil, false, false, err
	}
	if !found {
		ss.reply(423, "no article with that number")
		return a, nil, false, false, nil
	}
	a, err = ss.thread(ss.arts, art)
	return a, ss.arts, false, err == nil, err
}

func (ss *session) article(verb string, args []string) error {
	a, arts, byID, ok, err := ss.selected(args)
	if !ok {
		return err
	}
	num := a.Num
	if byID {
		num = 0 // RFC 3977 §6.2.1.2: a message-id selects no number
	} else {
		ss.cur = a.Num
	}
	var text string
	if verb == "ARTICLE" || verb == "BODY" {
		if text, err = arts.Text(a.Article); err != nil {
			return err
		}
	}
	code := map[string]int{"ARTICLE": 220, "HEAD": 221, "BODY": 222, "STAT": 223}[verb]
	ss.reply(code, fmt.Sprintf("%d %s", num, messageID(a.ID)))
	if verb == "STAT" {
		return nil
	}
	if verb != "BODY" {
		for _, h := range a.head() {
			ss.line(h[0] + ": " + h[1])
		}
	}
	if verb == "ARTICLE" {
		ss.line("")
	}
	if verb != "HEAD" {
		for _, l := range strings.SplitAfter(body(text), "\r\n") {
			if l != "" {
				ss.line(strings.TrimSuffix(l, "\r\n"))
			}
		}
	}
	ss.end()
	return nil
}

// each calls fn with the articles a range or message-id argument names, for
// OVER and HDR; ok is false when it wrote an error response instead.
func (ss *session) each(arg string, fn func(num uint64, a article)) (ok bool, err error) {
	if strings.HasPrefix(arg, "<") {
		a, _, _, ok, err := ss.selected([]string{arg})
		if ok {
			fn(0, a)
		}
		return ok, err
	}
	if ss.arts == nil {
		ss.reply(412, "no newsgroup selected")
		return false, nil
	}
	var from, to uint64
	if arg == "" {
		if ss.cur == 0 {
			ss.reply(420, "no current article")
			return false, nil
		}
		from, to = ss.cur, ss.cur
	} else {
		last, err := ss.arts.Last()
		if err != nil {
			return false, err
		}
		var valid bool
		if from, to, valid = parseRange(arg, last); !valid {
			ss.reply(501, "a range: n, n- or n-m")
			return false, nil
		}
	}
	var bad error
	err = ss.arts.Range(from, to, false, func(s store.Article) bool {
		var a article
		if a, bad = ss.thread(ss.arts, s); bad != nil {
			return false
		}
		fn(a.Num, a)
		return true
	})
	return true, errors.Join(err, bad)
}

// over runs OVER. Lines are gathered first, so an error partway answers 403
// rather than breaking off a 224 block.
func (ss *session) over(args []string) error {
	if len(args) > 1 {
		ss.reply(501, "OVER [range|<message-id>]")
		return nil
	}
	var out []string
	ok, err := ss.each(strings.Join(args, ""), func(num uint64, a article) {
		out = append(out, strconv.FormatUint(num, 10)+"\t"+a.overview())
	})
	if !ok || err != nil {
		return err
	}
	if len(out) == 0 {
		ss.reply(423, "no articles in that range")
		return nil
	}
	ss.reply(224, "overview information follows")
	ss.lines(out...)
	return nil
}

func (ss *session) hdr(verb string, args []string) error {
	if len(args) < 1 || len(args) > 2 {
		ss.reply(501, verb+" field [range|<message-id>]")
		return nil
	}
	field := args[0]
	var out []string
	ok, err := ss.each(strings.Join(args[1:], ""), func(num uint64, a article) {
		v, _ := a.field(field)
		out = append(out, strconv.FormatUint(num, 10)+" "+v)
	})
	if !ok || err != nil {
		return err
	}
	if len(out) == 0 {
		ss.reply(423, "no articles in that range")
		return nil
	}
	if verb == "XHDR" {
		ss.reply(221, field+" follows")
	} else {
		ss.reply(225, "headers follow")
	}
	ss.lines(out...)
	return nil
}

// parseDate reads NEWGROUPS' and NEWNEWS' date and time (RFC 3977 §7.3.2):
// yymmdd or yyyymmdd, hhmmss, optionally "GMT"; always taken as UTC.
func parseDate(args []string) (time.Time, bool) {
	if len(args) < 2 || len(args) > 3 || len(args) == 3 && !strings.EqualFold(args[2], "GMT") {
		return time.Time{}, false
	}
	d := args[0]
	if len(d) == 6 {
		// RFC 3977: a two-digit year is in the century nearest the present.
		if y, err := strconv.Atoi(d[:2]); err == nil && y > 50 {
			d = "19" + d
		} else {
			d = "20" + d
		}
	}
	t, err := time.Parse("20060102150405", d+args[1])
	return t, err == nil && len(args[1]) == 6
}

func (ss *session) newgroups(args []string) error {
	since, ok := parseDate(args)
	if !ok {
		ss.reply(501, "NEWGROUPS yymmdd hhmmss [GMT]")
		return nil
	}
	gs, err := ss.readable()
	if err != nil {
		return err
	}
	var out []string
	for _, g := range gs {
		if g.arts.G.Created.Time().Before(since) {
			continue
		}
		l, err := ss.activeLine(g)
		if err != nil {
			return err
		}
		out = append(out, l)
	}
	ss.reply(231, "list of new newsgroups follows")
	ss.lines(out...)
	return nil
}

// newnews lists the articles that arrived here since a time. Numbers follow
// arrival, so each group is read from its newest back to the first older one.
func (ss *session) newnews(args []string) error {
	if len(args) < 3 {
		ss.reply(501, "NEWNEWS wildmat yymmdd hhmmss [GMT]")
		return nil
	}
	since, ok := parseDate(args[1:])
	if !ok {
		ss.reply(501, "NEWNEWS wildmat yymmdd hhmmss [GMT]")
		return nil
	}
	gs, err := ss.readable()
	if err != nil {
		return err
	}
	var out []string
	for _, g := range gs {
		if !wildmat(args[0], g.name) {
			continue
		}
		last, err := g.arts.Last()
		if err != nil {
			return err
		}
		var ids []string
		err = g.arts.Range(1, last, true, func(a store.Article) bool {
			if a.Arrived < since.UnixMilli() {
				return false
			}
			ids = append(ids, messageID(a.ID))
			return true
		})
		if err != nil {
			return err
		}
		for i := len(ids) - 1; i >= 0; i-- {
			out = append(out, ids[i])
		}
	}
	ss.reply(230, "list of new articles follows")
	ss.lines(out...)
	return nil
}

// post runs POST (RFC 3977 §6.3.1): the article becomes a signed post of
// this node's author, through the same write path as `hearsay post`.
func (ss *session) post(args []string) error {
	if len(args) != 0 {
		ss.reply(501, "POST takes no arguments")
		return nil
	}
	gs, err := ss.readable()
	if err != nil {
		return err
	}
	may := false
	for _, g := range gs {
		may = may || g.arts.MayPost()
	}
	if !may {
		ss.reply(440, "posting not permitted: this node's author may write to none of its groups")
		return nil
	}
	ss.reply(340, "send the article; end it with a line holding one dot")
	if err := ss.flush(); err != nil {
		return err
	}
	raw, err := ss.readArticle()
	if err != nil {
		return err
	}
	if raw == nil {
		ss.reply(441, fmt.Sprintf("posting failed: the article is over %d octets", ss.s.limits.MaxArticle))
		return nil
	}
	p, err := parsePost(raw)
	if err != nil {
		ss.reply(441, "posting failed: "+err.Error())
		return nil
	}
	var target *newsgroup
	for i := range gs {
		if gs[i].name == p.newsgroup {
			target = &gs[i]
		}
	}
	if target == nil {
		ss.reply(441, "posting failed: no such newsgroup "+p.newsgroup)
		return nil
	}
	if !p.parent.IsZero() {
		parent, ok, err := target.arts.ByID(p.parent)
		if err != nil {
			return err
		}
		if !ok {
			ss.reply(441, "posting failed: the article it follows up is not in "+p.newsgroup)
			return nil
		}
		// A follow-up's "Re: <thread subject>" is what this gateway shows for a
		// reply without a subject, as hearsay writes replies.
		if a, err := ss.thread(target.arts, parent); err == nil && sameSubject(p.subject, a.subject) {
			p.subject = ""
		}
	}
	id, err := ss.s.n.Post(target.arts.G.ID, group.Post{Subject: p.subject, Text: p.text}, p.parent)
	if err != nil {
		ss.reply(441, "posting failed: "+err.Error())
		return nil
	}
	ss.reply(240, "article received "+messageID(id))
	return nil
}

// sameSubject reports whether a follow-up's subject only answers the
// parent's: "Re: " (any number, any case) and the same words.
func sameSubject(reply, parent string) bool {
	strip := func(s string) string {
		for {
			s = strings.TrimSpace(s)
			if len(s) < 3 || !strings.EqualFold(s[:3], "re:") {
				return s
			}
			s = s[3:]
		}
	}
	return strip(reply) == strip(parent)
}

// readArticle reads a posted article up to its lone dot, undoing the dot-
// stuffing; nil when it was larger than the limit (the rest is read and
// dropped, so the session stays in step).
func (ss *session) readArticle() ([]byte, error) {
	var buf []byte
	over, midLine := false, false
	for {
		ss.c.SetReadDeadline(time.Now().Add(ss.s.limits.IdleTimeout))
		line, err := ss.r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
		if !midLine {
			if strings.TrimRight(string(line), "\r\n") == "." {
				break
			}
			if len(line) > 1 && line[0] == '.' && line[1] == '.' {
				line = line[1:]
			}
		}
		midLine = err != nil // a line longer than the buffer: its rest follows
		if len(buf)+len(line) > ss.s.limits.MaxArticle {
			over = true
		}
		if !over {
			buf = append(buf, line...)
		}
	}
	if over {
		return nil, nil
	}
	return buf, nil
}
