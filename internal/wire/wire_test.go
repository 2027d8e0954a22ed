package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"

	"hearsay/internal/entry"
)

var samples = []Message{
	Open{Version: Version, Group: entry.ID{1, 2, 3}},
	Ack{},
	Err{Code: CodeUnknownGroup, Text: "no such group"},
	Recon{Msg: []byte{0x61, 0x00, 0x00}},
	Get{IDs: []entry.ID{{1}, {2}}},
	Get{IDs: []entry.ID{}},
	Entries{Raws: [][]byte{{0x82, 0x01}, bytes.Repeat([]byte{7}, 300)}},
	Put{Raws: [][]byte{{0x82}}},
	Probe{Version: Version, Groups: []ProbeGroup{{Group: entry.ID{1}, Count: 300, Fingerprint: [16]byte{9, 8}}, {Group: entry.ID{2}}}},
	ProbeReply{Verdicts: []Verdict{Same, Differs, Unknown, Busy}},
}

func TestRoundTrip(t *testing.T) {
	var stream bytes.Buffer
	for _, m := range samples {
		if err := WriteFrame(&stream, Encode(m)); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(&stream)
	for _, want := range samples {
		f, err := ReadFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(f)
		if err != nil {
			t.Fatalf("%T: %v", want, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	}
	if _, err := ReadFrame(r); err != io.EOF {
		t.Fatalf("after the last frame: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":            {},
		"unknown type":     {0x7f},
		"short open":       {tagOpen, Version, 1},
		"ack with body":    {tagAck, 0},
		"get overclaims":   {tagGet, 0x05, 1, 2, 3},
		"get too many":     append([]byte{tagGet, 0x81, 0x08}, make([]byte, 32*1025)...),
		"entry overclaims": {tagEntries, 0x01, 0x10, 1},
		"entry empty":      {tagPut, 0x01, 0x00},
		"trailing bytes":   {tagPut, 0x01, 0x01, 0xaa, 0xbb},
		"err not utf8":     {tagErr, 1, 0xff},
		"probe of none":    {tagProbe, Version, 0},
		"probe too many":   append([]byte{tagProbe, Version, MaxProbe + 1}, make([]byte, probeGroupMin*(MaxProbe+1))...),
		"probe short":      append([]byte{tagProbe, Version, 1}, make([]byte, probeGroupMin-1)...),
		"probe long count": append(append([]byte{tagProbe, Version, 1}, make([]byte, 32)...), append([]byte{0x80, 0x00}, make([]byte, 16)...)...),
		"probe trailing":   append([]byte{tagProbe, Version, 1}, make([]byte, probeGroupMin+1)...),
		"verdict unknown":  {tagProbeReply, 1, 4},
		"verdicts short":   {tagProbeReply, 2, 0},
		"no verdicts":      {tagProbeReply, 0},
	} {
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	huge := bytes.NewBuffer(nil)
	huge.Write([]byte{0xff, 0xff, 0xff, 0x7f}) // a length far over MaxFrame
	if _, err := ReadFrame(bufio.NewReader(huge)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("oversized frame: %v", err)
	}
}

// FuzzDecode: no input panics the decoder, and whatever decodes survives
// an encode and decode unchanged.
func FuzzDecode(f *testing.F) {
	for _, m := range samples {
		f.Add(Encode(m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(Encode(m))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("%#v does not survive a round trip: %#v, %v", m, again, err)
		}
	})
}

// FuzzReadFrame: no stream panics the frame reader or makes it read past a
// frame's end.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0x03, 1, 2, 3, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for {
			if _, err := ReadFrame(r); err != nil {
				return
			}
		}
	})
}

// A stream that fails (a reset) is not the peer breaking the format: only
// what the peer sent can be malformed.
func TestStreamFailureIsNotMalformed(t *testing.T) {
	reset := errors.New("stream reset")
	for name, r := range map[string]io.Reader{
		"before a frame":  iotest.ErrReader(reset),
		"inside a length": io.MultiReader(bytes.NewReader([]byte{0x80}), iotest.ErrReader(reset)),
		"inside a frame":  io.MultiReader(bytes.NewReader([]byte{0x05, 1, 2}), iotest.ErrReader(reset)),
	} {
		_, err := ReadFrame(bufio.NewReader(r))
		if !errors.Is(err, reset) || errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A stream that ends inside a frame is what a peer killed mid-write
	// leaves: not malformed either.
	for name, b := range map[string][]byte{
		"cut inside a length": {0x80},
		"cut inside a frame":  {0x05, 1, 2},
	} {
		if _, err := ReadFrame(bufio.NewReader(bytes.NewReader(b))); !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ReadFrame(bufio.NewReader(bytes.NewReader([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}))); !errors.Is(err, ErrMalformed) {
		t.Errorf("length too long: %v", err)
	}
}
