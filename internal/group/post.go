package group

import (
	"fmt"

	"hearsay/internal/entry"
)

// KindPost is a message in a group; a reply names its parent in Refs[0].
const KindPost = "post"

// MaxSubject bounds a post's subject in bytes.
const MaxSubject = 256

// Post is the body of a post entry.
type Post struct {
	Subject string `cbor:"subject,omitempty"`
	Text    string `cbor:"text"`
}

// EncodePost encodes a post body.
func EncodePost(p Post) ([]byte, error) {
	if len(p.Subject) > MaxSubject {
		return nil, fmt.Errorf("subject of %d bytes, limit %d", len(p.Subject), MaxSubject)
	}
	return encodeBody(&p), nil
}

// DecodePost decodes the body of a post entry.
func DecodePost(s *entry.Signed) (Post, error) {
	var p Post
	if err := decodeBody(s.Kind, s.Body, &p); err != nil {
		return Post{}, err
	}
	if len(p.Subject) > MaxSubject {
		return Post{}, fmt.Errorf("%w: subject of %d bytes, limit %d", entry.ErrMalformed, len(p.Subject), MaxSubject)
	}
	if len(s.Refs) > 1 {
		return Post{}, fmt.Errorf("%w: a post has at most one ref (its parent)", entry.ErrMalformed)
	}
	return p, nil
}

// ReplyTo is the parent a post answers, or the zero id.
func ReplyTo(s *entry.Signed) entry.ID {
	if s.Kind == KindPost && len(s.Refs) > 0 {
		return s.Refs[0]
	}
	return entry.ID{}
}
