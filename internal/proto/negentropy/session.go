package negentropy

import (
	"bytes"
	"fmt"
)

// buckets is how many fingerprints a differing range splits into, and twice
// it the size below which a range is sent as an id list (the reference's).
const buckets = 16

// MinFrame is the smallest frame limit a session accepts; 0 means none.
const MinFrame = 4096

// frameSlack keeps room for the closing range when a frame fills up.
const frameSlack = 200

// Session is one side of a reconciliation.
type Session struct {
	s      Storage
	limit  int // bytes; 0: none
	client bool
	// reported holds the ids a client has put in have or need. NB: a server
	// that cuts a message short may list a range again (the reference
	// implementations do), and each id must be reported once.
	reported map[ID]bool
}

// New starts a session over s. frameLimit bounds each message in bytes: 0
// for none, else at least MinFrame. A client sends Initiate first.
func New(s Storage, frameLimit int) (*Session, error) {
	if frameLimit != 0 && frameLimit < MinFrame {
		return nil, fmt.Errorf("negentropy: frame limit %d is below %d", frameLimit, MinFrame)
	}
	return &Session{s: s, limit: frameLimit}, nil
}

// Initiate makes this session the client and returns its first message.
func (n *Session) Initiate() []byte {
	n.client = true
	n.reported = map[ID]bool{}
	var ts timestamps
	return n.split([]byte{Version}, &ts, 0, n.s.Size(), infinite)
}

// Reconcile processes a message from the other side. A server returns its
// answer. A client returns its next message, or nil once reconciliation is
// done, and appends the ids it has that the server lacks to have (in its own
// order) and those the server has that it lacks to need (in the order the
// server listed them: the server's order). With storage in log order, a
// client that fetches need in order receives entries before their dependants.
func (n *Session) Reconcile(msg []byte, have, need []ID) (out []byte, _, _ []ID, err error) {
	r := &reader{b: msg}
	out = []byte{Version}
	if v := r.bytes(1); r.err != nil {
		return nil, have, need, r.err
	} else if v[0] != Version {
		if n.client {
			return nil, have, need, fmt.Errorf("%w: protocol version %#x", ErrMalformed, v[0])
		}
		return out, have, need, nil // the version we speak: the client may retry with it
	}
	var in, outTS timestamps
	size := n.s.Size()
	prev, prevIndex := bound{}, 0
	skipping := false
	for len(r.b) > 0 {
		var part []byte // the answer for the current range
		cut := false    // an id list was cut short: the rest must be covered
		// endSkip closes the ranges skipped so far. It writes to out
		// directly, so that out always ends at a range boundary this side
		// has settled (see the frame check below).
		endSkip := func(upto bound) {
			if skipping {
				skipping = false
				out = outTS.appendBound(out, upto)
				out = appendVarint(out, modeSkip)
			}
		}
		curr := in.readBound(r)
		mode := r.varint()
		if r.err != nil {
			return nil, have, need, r.err
		}
		lower := prevIndex
		upper := n.s.LowerBound(prevIndex, size, curr.Item)
		switch mode {
		case modeSkip:
			skipping = true
		case modeFingerprint:
			theirs := r.bytes(16)
			if r.err != nil {
				return nil, have, need, r.err
			}
			ours := n.s.Fingerprint(lower, upper)
			if bytes.Equal(theirs, ours[:]) {
				skipping = true
			} else {
				endSkip(prev)
				part = n.split(part, &outTS, lower, upper, curr)
			}
		case modeIDList:
			count := r.varint()
			if r.err == nil && count > uint64(len(r.b)/32) {
				r.fail("%d ids announced, room for %d", count, len(r.b)/32)
			}
			if r.err != nil {
				return nil, have, need, r.err
			}
			theirs := make(map[ID]bool, count)
			order := make([]ID, count)
			for i := range order {
				order[i] = ID(r.bytes(32))
				theirs[order[i]] = true
			}
			for i := lower; i < upper; i++ {
				id := n.s.Item(i).ID
				if theirs[id] {
					delete(theirs, id)
				} else if n.client && !n.reported[id] {
					n.reported[id] = true
					have = append(have, id)
				}
			}
			if n.client {
				for _, id := range order { // the server's order: its log order
					if theirs[id] && !n.reported[id] {
						n.reported[id] = true
						need = append(need, id)
					}
					delete(theirs, id)
				}
				skipping = true
				break
			}
			// A server answers an id list with its own ids in the range, as
			// many as the frame allows.
			endSkip(prev)
			end, ids := curr, []byte(nil)
			count = 0
			for i := lower; i < upper; i++ {
				if n.full(len(out) + len(ids)) { // the reference's bound: frameSlack, no more
					end, upper, cut = bound{Item: n.s.Item(i), n: 32}, i, true
					break
				}
				id := n.s.Item(i).ID
				ids = append(ids, id[:]...)
				count++
			}
			// NB: the list goes out even when it filled the frame; the
			// check below then covers the rest with one fingerprint.
			out = outTS.appendBound(out, end)
			out = appendVarint(out, modeIDList)
			out = appendVarint(out, count)
			out = append(out, ids...)
		default:
			return nil, have, need, fmt.Errorf("%w: mode %d", ErrMalformed, mode)
		}
		if cut || n.full(len(out)+len(part)) {
			// Out of room: cover everything not yet answered with one
			// fingerprint, whose range starts where out ends. A range that
			// needed no answer is closed first; an answer that does not fit
			// is left out and covered instead.
			start := lower
			if len(part) == 0 {
				endSkip(curr)
				start = upper
			}
			out = outTS.appendBound(out, infinite)
			out = appendVarint(out, modeFingerprint)
			fp := n.s.Fingerprint(start, size)
			out = append(out, fp[:]...)
			break
		}
		out = append(out, part...)
		prevIndex, prev = upper, curr
	}
	if n.client && len(out) == 1 {
		return nil, have, need, nil
	}
	return out, have, need, nil
}

func (n *Session) full(size int) bool { return n.limit != 0 && size > n.limit-frameSlack }

// split answers a differing range [lower, upper): its ids when few, else
// the fingerprints of buckets of it.
func (n *Session) split(b []byte, ts *timestamps, lower, upper int, upperBound bound) []byte {
	count := upper - lower
	if count < 2*buckets {
		b = ts.appendBound(b, upperBound)
		b = appendVarint(b, modeIDList)
		b = appendVarint(b, uint64(count))
		for i := lower; i < upper; i++ {
			id := n.s.Item(i).ID
			b = append(b, id[:]...)
		}
		return b
	}
	per, extra := count/buckets, count%buckets
	curr := lower
	for i := range buckets {
		size := per
		if i < extra {
			size++
		}
		fp := n.s.Fingerprint(curr, curr+size)
		curr += size
		next := upperBound
		if curr != upper {
			next = minimalBound(n.s.Item(curr-1), n.s.Item(curr))
		}
		b = ts.appendBound(b, next)
		b = appendVarint(b, modeFingerprint)
		b = append(b, fp[:]...)
	}
	return b
}
