package group

import (
	"fmt"

	"hearsay/internal/entry"
)

// KindProfile is an author's display name in a group, and a short
// description: the latest visible one wins. It is written like a post (the
// write policy applies; in a private group it is sealed).
const KindProfile = "profile"

// Limits of a profile, in bytes.
const (
	MaxDisplayName = 64
	MaxAbout       = 256
)

// Profile is the body of a profile entry.
type Profile struct {
	Name  string `cbor:"name"`
	About string `cbor:"about,omitempty"`
}

// EncodeProfile encodes a profile after checking it.
func EncodeProfile(p Profile) ([]byte, error) {
	if err := checkProfile(p); err != nil {
		return nil, err
	}
	return encodeBody(&p), nil
}

// DecodeProfile decodes and checks the body of a profile entry.
func DecodeProfile(s *entry.Signed) (Profile, error) {
	var p Profile
	if len(s.Refs) != 0 {
		return p, fmt.Errorf("%w: a profile has no refs", entry.ErrMalformed)
	}
	if err := decodeBody(s.Kind, s.Body, &p); err != nil {
		return Profile{}, err
	}
	if err := checkProfile(p); err != nil {
		return Profile{}, fmt.Errorf("%w: %v", entry.ErrMalformed, err)
	}
	return p, nil
}

func checkProfile(p Profile) error {
	if err := checkText("display name", p.Name, MaxDisplayName); err != nil {
		return err
	}
	if p.About != "" {
		return checkText("about", p.About, MaxAbout)
	}
	return nil
}
