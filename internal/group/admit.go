package group

import (
	"errors"
	"fmt"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/hlc"
)

// MaxSkew is how far in the future an entry's hlc may be. A later entry is
// not accepted yet; reconciliation offers it again once its time has come.
const MaxSkew = 10 * time.Minute

// Reasons an entry is refused. Each is wrapped with detail.
var (
	ErrUnknownGroup  = errors.New("unknown group")
	ErrFuture        = errors.New("entry from the future, not accepted yet")
	ErrBeforeGenesis = errors.New("entry older than its group")
	ErrNotAllowed    = errors.New("author may not write to this group")
	ErrOverQuota     = errors.New("over quota")
)

// Usage is what an author has written to a group on one day.
type Usage struct {
	Entries uint32
	Bytes   uint64
}

// Day is the quota day of a timestamp: days since the Unix epoch, UTC.
func Day(t hlc.Timestamp) uint32 { return uint32(t.Millis() / int64(24*time.Hour/time.Millisecond)) }

// CheckClock refuses an entry whose hlc is more than MaxSkew after nowMs.
func CheckClock(s *entry.Signed, nowMs int64) error {
	if s.HLC.Millis() > nowMs+MaxSkew.Milliseconds() {
		return fmt.Errorf("%w: written at %v, now %v", ErrFuture, s.HLC.Time().Format(time.RFC3339), time.UnixMilli(nowMs).UTC().Format(time.RFC3339))
	}
	return nil
}

// Grants answers from what a replica holds whether an author was added to a
// group (as a member, or as an admin when admin is set) by any entry older
// than at. Adds are never undone in this answer: removals take effect in the
// views, so that admission only grows as a replica learns more, and replicas
// that hold the same entries admit the same ones.
type Grants interface {
	GrantedBefore(g entry.ID, author entry.Author, admin bool, at hlc.Timestamp) (bool, error)
}

// Admit decides whether a decoded, verified entry whose body passed CheckBody
// may be stored in g, given what its author already wrote that day and the
// grants the replica holds. It does not check the clock.
//
// NB: quotas are a replica's admission rule, not part of the log's meaning:
// an author who writes past them gets different subsets accepted by
// different replicas. Honest authors stay under them (a node refuses to
// write past its own quota), so only abusers see divergence.
func (g *Group) Admit(s *entry.Signed, used Usage, grants Grants) error {
	if s.GroupID() != g.ID {
		return fmt.Errorf("%w %s", ErrUnknownGroup, s.GroupID().Short())
	}
	if s.Kind == entry.KindGenesis {
		return nil // FromGenesis validated it
	}
	if s.HLC <= g.Created {
		return fmt.Errorf("%w: written at %v, group created at %v", ErrBeforeGenesis, s.HLC, g.Created)
	}
	if len(s.Body) > int(g.Quota.MaxBody) {
		return fmt.Errorf("%w: body of %d bytes, group limit %d", entry.ErrTooLarge, len(s.Body), g.Quota.MaxBody)
	}
	if err := g.checkWriter(s, grants); err != nil {
		return err
	}
	if q := g.Quota.EntriesPerDay; q != 0 && used.Entries >= q {
		return fmt.Errorf("%w: %d entries by %s on %s, limit %d", ErrOverQuota, used.Entries, s.Author.Short(), s.HLC.Time().Format(time.DateOnly), q)
	}
	if q := g.Quota.BytesPerDay; q != 0 && used.Bytes+uint64(len(s.Raw)) > q {
		return fmt.Errorf("%w: %d bytes by %s on %s, limit %d", ErrOverQuota, used.Bytes+uint64(len(s.Raw)), s.Author.Short(), s.HLC.Time().Format(time.DateOnly), q)
	}
	return nil
}

// CheckBody validates the body of the kinds this version understands. It
// depends on the entry alone, so ingest runs it in parallel with signature
// verification; Admit relies on it having passed. Unknown kinds pass: a
// newer writer's entries are stored and forwarded, and views skip them.
func CheckBody(s *entry.Signed) error {
	switch s.Kind {
	case entry.KindGenesis:
		_, err := FromGenesis(s)
		return err
	case KindPost:
		_, err := DecodePost(s)
		return err
	case KindMember:
		_, err := DecodeMember(s)
		return err
	case KindHideAuthor:
		_, err := DecodeHideAuthor(s)
		return err
	case KindSet:
		_, err := DecodeSetOp(s)
		return err
	case KindDir:
		_, err := DecodeDirOp(s)
		return err
	case KindRetract, KindHide:
		return checkTarget(s)
	case KindKey:
		_, err := DecodeKeyShares(s)
		return err
	case KindSealed:
		_, err := DecodeSealed(s)
		return err
	case KindProfile:
		_, err := DecodeProfile(s)
		return err
	}
	return nil
}

// checkWriter applies the write policy, and keeps member, hide,
// hide-author and key entries to the owner and admins whatever the policy.
func (g *Group) checkWriter(s *entry.Signed, grants Grants) error {
	private := g.Read == ReadMembers
	switch s.Kind {
	case KindPost, KindSet, KindDir, KindProfile:
		if private {
			return fmt.Errorf("%w: %q is private: a %s must be sealed", ErrNotAllowed, g.Name, s.Kind)
		}
	case KindKey, KindSealed:
		if !private {
			return fmt.Errorf("%w: %q is public: it has no %s entries", ErrNotAllowed, g.Name, s.Kind)
		}
	}
	a := s.Author
	if a == g.Owner {
		return nil
	}
	if s.Kind == KindMember || s.Kind == KindHide || s.Kind == KindHideAuthor || s.Kind == KindKey {
		ok, err := grants.GrantedBefore(g.ID, a, true, s.HLC)
		if err != nil || ok {
			return err
		}
		return fmt.Errorf("%w: %s is not an admin of %q, and only admins may %s", ErrNotAllowed, a.Short(), g.Name,
			map[string]string{KindMember: "manage members", KindHide: "hide entries", KindHideAuthor: "hide authors", KindKey: "share group keys"}[s.Kind])
	}
	switch g.Write {
	case WriteOpen:
		return nil
	case WriteMembers:
		ok, err := grants.GrantedBefore(g.ID, a, false, s.HLC)
		if err != nil || ok {
			return err
		}
		return fmt.Errorf("%w: %s is not a member of %q (write policy members): an admin must add it", ErrNotAllowed, a.Short(), g.Name)
	}
	return fmt.Errorf("%w: %s is not the owner of %q (write policy owner)", ErrNotAllowed, a.Short(), g.Name)
}
