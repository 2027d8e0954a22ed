package nntp

import (
	"strings"

	"hearsay/internal/group"
)

// idDigits is how much of a group's id its newsgroup name carries: names are
// not unique, and 64 bits make a name that shadows another's out of reach.
const idDigits = 16

// Name is the newsgroup name of a group (docs/nntp.md): its name in lower
// case with every character outside [a-z0-9+_-] made '-', dots kept as the
// hierarchy's separators and empty components dropped, then a component of
// the id's first 16 hex digits. It is stable: it depends only on the
// genesis. Nothing in it is special to a wildmat (RFC 3977 §4).
func Name(g *group.Group) string {
	var parts []string
	for _, comp := range strings.Split(strings.ToLower(g.Name), ".") {
		comp = strings.Map(func(c rune) rune {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '_' || c == '-' {
				return c
			}
			return '-'
		}, comp)
		if s := strings.Trim(comp, "-"); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		parts = []string{"group"}
	}
	return strings.Join(append(parts, g.ID.String()[:idDigits]), ".")
}

// wildmat matches name against an RFC 3977 §4 wildmat: patterns separated
// by commas, each optionally negated by '!', the rightmost that matches
// deciding; '*' matches any run of characters and '?' any one.
func wildmat(pattern, name string) bool {
	match := false
	for _, p := range strings.Split(pattern, ",") {
		neg := strings.HasPrefix(p, "!")
		if glob(strings.TrimPrefix(p, "!"), name) {
			match = !neg
		}
	}
	return match
}

func glob(p, s string) bool {
	// The classic two-pointer match with one backtrack point for the last '*'.
	pi, si, star, mark := 0, 0, -1, 0
	pr, sr := []rune(p), []rune(s)
	for si < len(sr) {
		switch {
		case pi < len(pr) && (pr[pi] == '?' || pr[pi] == sr[si]):
			pi++
			si++
		case pi < len(pr) && pr[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(pr) && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}
