package strictjson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// post is shaped as the API's post body (web.PostBody).
type post struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
	ReplyTo string `json:"reply_to,omitempty"`
}

// FuzzDecode: the API's request bodies come from any client. Decode never
// panics; what it accepts is valid UTF-8, holds U+FFFD only where the body
// wrote it (encoding/json puts one for each byte it cannot read), and
// decodes again to the same value once encoded.
func FuzzDecode(f *testing.F) {
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
		var v post
		if Decode(b, &v) != nil {
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
		var back post
		if err := Decode(again, &back); err != nil || back != v {
			t.Fatalf("%+v encoded as %s decodes to %+v, %v", v, again, back, err)
		}
	})
}

// TestRefusals: each alteration encoding/json would make is refused, and a
// body without one decodes.
func TestRefusals(t *testing.T) {
	for _, b := range []string{
		"{\"text\":\"a\xffb\"}",
		`{"text":"a\ud800b"}`,
		`{"text":"a\udc00"}`,
		`{"text":"a","text":"b"}`,
		`{"Text":"a"}`,
		`{"text":"a","TEXT":"b"}`,
		`{"text":"a","other":1}`,
		`{"text":"a"} {}`,
	} {
		var v post
		if err := Decode([]byte(b), &v); err == nil {
			t.Errorf("%q decoded to %+v", b, v)
		}
	}
	var v post
	if err := Decode([]byte(`{"text":"\ud83d\ude00 \\ud800","subject":"s"}`), &v); err != nil || v.Text != "😀 \\ud800" || v.Subject != "s" {
		t.Fatalf("a good body: %+v, %v", v, err)
	}
}
