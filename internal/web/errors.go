package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/node"
	"hearsay/internal/store"
	"hearsay/internal/view"
)

// Error is the body of every error answer: a stable code for programs and
// a message for people.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes, with the status each goes with.
const (
	CodeBadRequest   = "bad_request"  // 400: malformed input, invalid values
	CodeUnauthorized = "unauthorized" // 401: no or wrong token or session
	CodeForbidden    = "forbidden"    // 403: cross-site request, or refused by the group's rules
	CodeNotFound     = "not_found"    // 404: unknown group, entry, path or route
	CodeConflict     = "conflict"     // 409: an id prefix names several entries
	CodeTooLarge     = "too_large"    // 413: a request body over its bound
	CodeUnavailable  = "unavailable"  // 503: no peer could be reached
	CodeInternal     = "internal"     // 500: the store failed
)

// writeError answers err with the status and code its kind calls for.
func writeError(w http.ResponseWriter, err error) {
	status, body := errorOf(err)
	writeJSON(w, status, body)
}

// errorOf is the status and body that answer err.
func errorOf(err error) (int, Error) {
	status, code := http.StatusBadRequest, CodeBadRequest
	switch {
	case errors.Is(err, group.ErrUnknownGroup), errors.Is(err, node.ErrNoEntry), errors.Is(err, store.ErrNotFound),
		errors.Is(err, view.ErrNoPath):
		status, code = http.StatusNotFound, CodeNotFound
	case isTooLarge(err):
		status, code = http.StatusRequestEntityTooLarge, CodeTooLarge
	case errors.Is(err, node.ErrAmbiguous):
		status, code = http.StatusConflict, CodeConflict
	case errors.Is(err, group.ErrNotAllowed), errors.Is(err, node.ErrNotYours), errors.Is(err, node.ErrNoKey),
		errors.Is(err, group.ErrOverQuota):
		status, code = http.StatusForbidden, CodeForbidden
	case errors.Is(err, store.ErrWrite), errors.Is(err, store.ErrCorrupt):
		status, code = http.StatusInternalServerError, CodeInternal
	case errors.Is(err, errUnreachable):
		status, code = http.StatusServiceUnavailable, CodeUnavailable
	case errors.Is(err, entry.ErrMalformedID), errors.Is(err, entry.ErrMalformed), errors.Is(err, entry.ErrTooLarge):
	}
	return status, Error{code, err.Error()}
}

func isTooLarge(err error) bool {
	_, ok := errors.AsType[*http.MaxBytesError](err)
	return ok
}

// errUnreachable marks a join that found no peer to sync with.
var errUnreachable = errors.New("no peer could give the group")

func fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, Error{code, msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// encoded is a JSON answer, as writeJSON would write it.
func encoded(status int, v any) answer {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(v)
	return answer{status, b.Bytes()}
}
