package group

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"hearsay/internal/blob"
	"hearsay/internal/entry"
	"hearsay/internal/hlc"
)

// FuzzBody feeds arbitrary bodies to every kind's checks. Nothing may panic,
// and a body that passes must be the canonical encoding of what it decoded
// to (the strict decoder re-encodes and compares).
func FuzzBody(f *testing.F) {
	seeds := map[string]any{
		KindPost:       &Post{Subject: "s", Text: "t"},
		KindSet:        &SetOp{Set: "s", Element: "e", Op: OpAdd},
		KindDir:        &DirOp{Path: "a/b", Op: OpPut, Value: []byte("v")},
		KindMember:     &Member{Op: OpAdd, Author: make([]byte, 32), Admin: true},
		KindHideAuthor: &HideAuthor{Op: OpHide, Author: make([]byte, 32)},
		KindKey:        &KeyShares{Key: make([]byte, 32), Shares: []Share{{To: make([]byte, 32), Box: make([]byte, sealedBoxSize)}}},
		KindSealed:     &Sealed{Key: make([]byte, 32), Nonce: make([]byte, 24), CT: make([]byte, 40)},
	}
	for _, kind := range []string{KindPost, KindSet, KindDir, KindMember, KindHideAuthor, KindKey, KindSealed, entry.KindGenesis} {
		if v, ok := seeds[kind]; ok {
			f.Add(kind, encodeBody(v))
		}
	}
	f.Add(entry.KindGenesis, encodeBody(&Genesis{Name: "g", Write: WriteOpen, Read: ReadPublic, Quota: DefaultQuota}))
	f.Add(KindDir, encodeBody(&DirOp{Path: "v/a.bin", Op: OpPut, File: &blob.Manifest{Size: 5 << 20, Segment: blob.SegmentSize, K: 3, M: 7,
		Content: make([]byte, 32), Table: make([]byte, 32), Key: make([]byte, 32)}}))
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	var author entry.Author
	copy(author[:], key.Public().(ed25519.PublicKey))
	f.Fuzz(func(t *testing.T, kind string, body []byte) {
		s := &entry.Signed{Entry: entry.Entry{Author: author, Seq: 1, HLC: hlc.New(1, 0), Kind: kind, Body: body}}
		if kind != entry.KindGenesis {
			s.Group = entry.ID{1}
		}
		if CheckBody(s) != nil {
			return
		}
		var v any
		switch kind {
		case KindPost:
			v = &Post{}
		case KindSet:
			v = &SetOp{}
		case KindDir:
			v = &DirOp{}
		case KindMember:
			v = &Member{}
		case KindHideAuthor:
			v = &HideAuthor{}
		case KindKey:
			v = &KeyShares{}
		case KindSealed:
			v = &Sealed{}
		default:
			return
		}
		if err := decodeBody(kind, body, v); err != nil {
			t.Fatalf("CheckBody passed a %s body that does not decode: %v", kind, err)
		}
		if again := encodeBody(v); !bytes.Equal(again, body) {
			t.Fatalf("a %s body passed that is not canonical:\n in  %x\n out %x", kind, body, again)
		}
	})
}
