// Package archive reads and writes export files: a group's entries as an
// RFC 8742 CBOR sequence (media type application/cbor-seq), so a file on a
// USB stick is as good a transport as the network.
//
//	file   = header entry*
//	header = the canonical CBOR map {"format": "hearsay-export", "version": 1}
//	entry  = one signed entry, exactly as package entry encodes it
//
// Entries carry their own signatures, so the file needs no checksum: a
// reader checks the framing, and the importer verifies every entry.
package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"hearsay/internal/entry"

	"github.com/fxamacker/cbor/v2"
)

// Header opens every export file.
var Header = []byte{
	0xa2, // map of 2
	0x66, 'f', 'o', 'r', 'm', 'a', 't',
	0x6e, 'h', 'e', 'a', 'r', 's', 'a', 'y', '-', 'e', 'x', 'p', 'o', 'r', 't',
	0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n',
	0x01,
}

// ErrCorrupt marks a file whose framing is broken at some offset: what
// follows cannot be split into entries.
var ErrCorrupt = errors.New("corrupt export file")

// Writer writes an export file.
type Writer struct {
	w   io.Writer
	err error
}

// NewWriter writes the header to w.
func NewWriter(w io.Writer) *Writer {
	_, err := w.Write(Header)
	return &Writer{w: w, err: err}
}

// Write appends one encoded entry.
func (w *Writer) Write(raw []byte) error {
	if w.err == nil {
		_, w.err = w.w.Write(raw)
	}
	return w.err
}

// Reader splits an export file into entries without decoding them.
type Reader struct {
	br  *bufio.Reader
	off int64
}

// NewReader checks the header.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, entry.MaxEncoded+16)}
	h, err := rd.br.Peek(len(Header))
	if err != nil || !bytes.Equal(h, Header) {
		return nil, fmt.Errorf("not a hearsay export file (bad header)")
	}
	rd.br.Discard(len(Header))
	rd.off = int64(len(Header))
	return rd, nil
}

// Next returns the next entry's bytes and their offset in the file. It
// returns io.EOF at the clean end of the file, and an error wrapping
// ErrCorrupt where the framing breaks; nothing after that can be read.
// The returned slice is the caller's.
func (r *Reader) Next() (raw []byte, off int64, err error) {
	buf, perr := r.br.Peek(r.br.Size())
	if len(buf) == 0 {
		if perr == io.EOF {
			return nil, r.off, io.EOF
		}
		return nil, r.off, perr
	}
	var item cbor.RawMessage
	rest, err := cbor.UnmarshalFirst(buf, &item)
	switch {
	case err == nil:
	case errors.Is(err, io.ErrUnexpectedEOF) && perr == nil:
		return nil, r.off, fmt.Errorf("%w at byte %d: an item longer than the %d-byte entry limit", ErrCorrupt, r.off, entry.MaxEncoded)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, r.off, fmt.Errorf("%w at byte %d: truncated (%d bytes left)", ErrCorrupt, r.off, len(buf))
	default:
		return nil, r.off, fmt.Errorf("%w at byte %d: %v", ErrCorrupt, r.off, err)
	}
	n := len(buf) - len(rest)
	raw = bytes.Clone(buf[:n])
	off = r.off
	r.br.Discard(n)
	r.off += int64(n)
	return raw, off, nil
}
