package nntp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"unicode/utf8"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// posted is what a newsreader's article says for a post.
type posted struct {
	newsgroup string
	subject   string
	text      string
	parent    entry.ID // zero for a new thread
}

// parsePost reads a posted article (RFC 5536). Only what a post holds is
// taken: the newsgroup, the subject, the parent (the last of References)
// and the text; From, Message-ID and the rest are this node's to set.
func parsePost(raw []byte) (posted, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return posted{}, fmt.Errorf("the article's head does not parse: %v", err)
	}
	var p posted
	groups := strings.FieldsFunc(m.Header.Get("Newsgroups"), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	switch len(groups) {
	case 0:
		return posted{}, errors.New("no Newsgroups header")
	case 1:
		p.newsgroup = groups[0]
	default:
		return posted{}, errors.New("cross-posting is not supported: name one newsgroup")
	}
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	if p.subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		return posted{}, fmt.Errorf("Subject: %v", err)
	}
	p.subject = strings.TrimSpace(p.subject)
	if len(p.subject) > group.MaxSubject {
		return posted{}, fmt.Errorf("a subject of %d bytes, limit %d", len(p.subject), group.MaxSubject)
	}
	if refs := strings.Fields(m.Header.Get("References")); len(refs) > 0 {
		id, ok := parseMessageID(refs[len(refs)-1])
		if !ok {
			return posted{}, fmt.Errorf("References ends with %s, which is no article of this gateway", refs[len(refs)-1])
		}
		p.parent = id
	}
	if p.subject == "" && p.parent.IsZero() {
		return posted{}, errors.New("a new thread needs a Subject")
	}
	text, err := decodeBody(m)
	if err != nil {
		return posted{}, err
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	p.text = strings.TrimRight(text, "\n")
	return p, nil
}

// decodeBody undoes the transfer encoding and gives the text as UTF-8.
func decodeBody(m *mail.Message) (string, error) {
	var r io.Reader = m.Body
	switch cte := strings.ToLower(strings.TrimSpace(m.Header.Get("Content-Transfer-Encoding"))); cte {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	default:
		return "", fmt.Errorf("Content-Transfer-Encoding %q is not supported", cte)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("the body does not decode: %v", err)
	}
	charset := "utf-8"
	if ct := m.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return "", fmt.Errorf("Content-Type: %v", err)
		}
		if mt != "text/plain" {
			return "", fmt.Errorf("Content-Type %s: a post is plain text", mt)
		}
		if c := params["charset"]; c != "" {
			charset = strings.ToLower(c)
		}
	}
	switch charset {
	case "utf-8", "us-ascii":
		if !utf8.Valid(b) {
			return "", fmt.Errorf("the body is not %s", charset)
		}
		return string(b), nil
	case "iso-8859-1", "latin1":
		return latin1(b), nil
	}
	return "", fmt.Errorf("charset %s is not supported: send UTF-8", charset)
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func charsetReader(charset string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1":
		b, err := io.ReadAll(in)
		return strings.NewReader(latin1(b)), err
	}
	return nil, fmt.Errorf("charset %s is not supported", charset)
}
