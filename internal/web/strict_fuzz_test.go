package web

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeBody: the API's JSON decoder takes any client's bytes. It
// never panics; what it accepts is valid UTF-8, holds U+FFFD only where the
// body wrote it (encoding/json puts one for each byte it cannot read), and
// decodes again to the same value once encoded.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"text":"hello","subject":"s","reply_to":"ab"}`,
		`{"text":"a","text":"b"}`,
		`{"Text":"a"}`,
		"{\"text\":\"a\xffb\"}",
		`{"text":"\ud83d\ude00 \ud800"}`,
		`{"text":"x"} {}`,
		`{"text":"\ufffd"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v PostBody
		if decode(httptest.NewRequest("POST", "/", bytes.NewReader(b)), &v) != nil {
			return
		}
		if !utf8.Valid(b) {
			t.Fatalf("accepted %q, not UTF-8", b)
		}
		wrote := bytes.Contains(b, []byte("\uFFFD")) || strings.Contains(strings.ToLower(string(b)), `\ufffd`)
		if !wrote && strings.ContainsRune(v.Text+v.Subject+v.ReplyTo, utf8.RuneError) {
			t.Fatalf("accepted %q as %+v: a U+FFFD the body did not write", b, v)
		}
		again, _ := json.Marshal(v)
		var back PostBody
		if err := decode(httptest.NewRequest("POST", "/", bytes.NewReader(again)), &back); err != nil || back != v {
			t.Fatalf("%+v encoded as %s decodes to %+v, %v", v, again, back, err)
		}
	})
}
