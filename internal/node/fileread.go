package node

import (
	"context"
	"errors"
	"fmt"
	"io"

	"hearsay/internal/blob"
)

// Window is how many stripes a reader fetches ahead of the one it returns:
// enough to keep several sources busy, few enough to bound memory at
// Window·(k+m) shards (16 MiB at 1 MiB segments and k=m).
const Window = 8

// FileReader reads a file's content from a Source, verified stripe by
// stripe before any byte is returned, fetching up to Window stripes ahead
// in parallel. It is an io.ReadSeeker, so HTTP range requests work on it.
type FileReader struct {
	f     *File
	src   Source
	coder *blob.Coder
	off   int64

	ctx    context.Context
	cancel context.CancelFunc
	ahead  map[int]chan stripeResult // stripes being fetched; at most Window
	cur    int                       // the stripe in seg; -1: none
	seg    []byte
}

type stripeResult struct {
	shards [][]byte
	err    error
}

// OpenFile makes a reader of f (its table loaded) from src.
func OpenFile(ctx context.Context, f *File, src Source) (*FileReader, error) {
	if f.Table == nil {
		return nil, errors.New("node: OpenFile needs the shard table")
	}
	c, err := blob.NewCoder(f.Params(), int64(f.M.Size), f.M.Key)
	if err != nil {
		return nil, err
	}
	r := &FileReader{f: f, src: src, coder: c, cur: -1, ahead: map[int]chan stripeResult{}}
	r.ctx, r.cancel = context.WithCancel(ctx)
	return r, nil
}

// Size is the content's length.
func (r *FileReader) Size() int64 { return int64(r.f.M.Size) }

// Close stops the fetches under way.
func (r *FileReader) Close() error {
	r.cancel()
	return nil
}

// Seek sets the offset of the next Read.
func (r *FileReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.Size()
	}
	if offset < 0 {
		return r.off, fmt.Errorf("seek to %d", offset)
	}
	r.off = offset
	return offset, nil
}

// Read reads content from the current offset.
func (r *FileReader) Read(p []byte) (int, error) {
	if r.off >= r.Size() {
		return 0, io.EOF
	}
	seg := int64(r.f.M.Segment)
	i := int(r.off / seg)
	if i != r.cur {
		if err := r.load(i); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.seg[r.off-int64(i)*seg:])
	r.off += int64(n)
	return n, nil
}

// load decodes stripe i, keeping the window of fetches ahead of it full.
func (r *FileReader) load(i int) error {
	for s := range r.ahead { // a seek elsewhere: what was fetched for before it is not needed
		if s < i || s >= i+Window {
			delete(r.ahead, s)
		}
	}
	for s := i; s < min(i+Window, r.f.M.Stripes()); s++ {
		if r.ahead[s] != nil {
			continue
		}
		ch := make(chan stripeResult, 1) // the fetch never blocks on a reader that moved on
		r.ahead[s] = ch
		go func() {
			shs, err := r.src.Stripe(r.ctx, r.f, s)
			ch <- stripeResult{shs, err}
		}()
	}
	res := <-r.ahead[i]
	delete(r.ahead, i)
	if res.err != nil {
		return res.err
	}
	seg, err := r.coder.Decode(i, res.shards)
	if err != nil {
		return err
	}
	r.seg, r.cur = seg, i
	return nil
}
