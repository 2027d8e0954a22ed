// Package strictjson decodes JSON so that what is stored is what was sent:
// where encoding/json would quietly alter a value — bytes that are not
// UTF-8 and lone surrogate escapes (both become U+FFFD), a key given twice
// (the last wins), a key in another case than its field's (any matches),
// unknown fields, data after the value — Decode refuses it. The REST API
// decodes every request body with it (internal/web).
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Decode decodes b into v, a pointer to a struct, refusing what the
// package doc lists.
func Decode(b []byte, v any) error {
	if !utf8.Valid(b) || loneSurrogate(b) {
		return errors.New("not valid UTF-8")
	}
	if err := exactKeys(b, jsonNames(reflect.TypeOf(v).Elem())); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// jsonNames are the keys encoding/json fills in a struct type.
func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	if t.Kind() != reflect.Struct {
		return names
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = true
	}
	return names
}

// exactKeys refuses a key given twice in any object, and a top-level key
// that names a field only in another case ("Text" for "text"). Malformed
// JSON passes: the decoder reports it, better.
func exactKeys(b []byte, names map[string]bool) error {
	type frame struct {
		keys    map[string]bool // nil in an array
		wantKey bool
	}
	var stack []*frame
	d := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if key, ok := tok.(string); ok && top != nil && top.wantKey {
			if top.keys[key] {
				return fmt.Errorf("key %q given twice", key)
			}
			if len(stack) == 1 && !names[key] {
				for name := range names {
					if strings.EqualFold(name, key) {
						return fmt.Errorf("key %q: keys are case-sensitive, want %q", key, name)
					}
				}
			}
			top.keys[key], top.wantKey = true, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].keys != nil {
			stack[len(stack)-1].wantKey = true // a value ended: a key or the end comes next
		}
	}
}

// loneSurrogate reports a \u escape of half a UTF-16 surrogate pair
// without its other half, which encoding/json decodes as U+FFFD.
func loneSurrogate(b []byte) bool {
	hex4 := func(i int) (rune, bool) {
		if i+4 > len(b) {
			return 0, false
		}
		r, err := strconv.ParseUint(string(b[i:i+4]), 16, 16)
		return rune(r), err == nil
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		i++ // the escaped byte: a backslash escaping a backslash is skipped whole
		if i >= len(b) || b[i] != 'u' {
			continue
		}
		r, ok := hex4(i + 1)
		if !ok {
			continue
		}
		i += 4
		switch {
		case r >= 0xdc00 && r < 0xe000:
			return true
		case r >= 0xd800 && r < 0xdc00:
			if i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				if low, ok := hex4(i + 3); ok && low >= 0xdc00 && low < 0xe000 {
					i += 6
					continue
				}
			}
			return true
		}
	}
	return false
}
