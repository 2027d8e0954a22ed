package node

import (
	"errors"
	"io"
	"sync"

	"hearsay/internal/archive"
	"hearsay/internal/entry"
	"hearsay/internal/store"
)

// Export writes every entry of a group to w as an export file, in log order
// (the genesis first, as every other entry is later than it). It returns the
// number of entries written.
func (n *Node) Export(gid entry.ID, w io.Writer) (int, error) {
	if _, err := n.Store.Group(gid); err != nil {
		return 0, err
	}
	aw := archive.NewWriter(w)
	count := 0
	var werr error
	err := n.Store.Log(gid, func(e *entry.Signed) bool {
		if werr = aw.Write(e.Raw); werr != nil {
			return false
		}
		count++
		return true
	})
	return count, errors.Join(err, werr)
}

// ImportResult sums up an import.
type ImportResult struct {
	Read       int       `json:"read"`
	Stored     int       `json:"stored"`
	Duplicates int       `json:"duplicates"`
	Refused    []Refusal `json:"refused"`
	// Corrupt says where the file's framing broke; nothing after it was read.
	Corrupt string `json:"corrupt,omitempty"`
}

// OK reports whether every entry of the file was stored or already held.
func (r *ImportResult) OK() bool { return len(r.Refused) == 0 && r.Corrupt == "" }

// Refusal is an entry import did not store, and why.
type Refusal struct {
	Offset int64  `json:"offset"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

// Import reads an export file and ingests every entry through the full
// validation, in pipelined chunks. Valid entries are stored even when others
// are refused. An error is returned only when the file cannot be read at all
// (no header, an I/O error); refusals and corruption are in the result.
func (n *Node) Import(r io.Reader) (*ImportResult, error) {
	ar, err := archive.NewReader(r)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Refused: []Refusal{}}
	// next runs on IngestAll's reader and done on its committer, both in
	// chunk order: offsets is the queue between them.
	var mu sync.Mutex
	var offsets [][]int64
	push := func(offs []int64) {
		if len(offs) == 0 {
			return // IngestAll commits no empty chunk
		}
		mu.Lock()
		offsets = append(offsets, offs)
		mu.Unlock()
	}
	next := func() ([][]byte, error) {
		var chunk [][]byte
		var offs []int64
		for size := 0; len(chunk) < store.ChunkSize && size < store.ChunkBytes; {
			raw, off, err := ar.Next()
			if err != nil {
				if errors.Is(err, archive.ErrCorrupt) {
					res.Corrupt = err.Error()
					err = io.EOF
				}
				push(offs)
				return chunk, err
			}
			chunk, offs = append(chunk, raw), append(offs, off)
			size += len(raw)
		}
		push(offs)
		return chunk, nil
	}
	done := func(out []store.Outcome) {
		n.noteStored(SourceImport, out)
		mu.Lock()
		offs := offsets[0]
		offsets = offsets[1:]
		mu.Unlock()
		for i, o := range out {
			res.Read++
			switch {
			case o.Err != nil:
				rf := Refusal{Offset: offs[i], Reason: store.Reason(o.Err), Error: o.Err.Error()}
				if !o.ID.IsZero() {
					rf.ID = o.ID.String()
				}
				res.Refused = append(res.Refused, rf)
			case o.Duplicate:
				res.Duplicates++
			default:
				res.Stored++
			}
		}
	}
	if err := n.Store.IngestAll(next, func() int64 { return n.now().UnixMilli() }, done); err != nil {
		return res, err
	}
	return res, n.unsealAll()
}
