// Package api is the node's local HTTP server, on 127.0.0.1 by default and
// open only to holders of the home's token. It serves:
//
//   - /api/v1/: the API, with the token as a bearer token. For now it has
//     one operation the CLI needs: run a command line inside the serving
//     process, against its open store, so that every CLI command works
//     unchanged while a node runs.
//   - /dav/: the folder view (WebDAV, package dav), with the token as a
//     bearer token or as the password of HTTP basic auth, which is what
//     operating systems' mount dialogs send.
//   - /metrics: Prometheus metrics (package metrics), with the token either
//     way, since they name the groups the node replicates.
//   - everything else: the REST API and the web UI (package web), which
//     admit the bearer token or the UI's session.
//
// It measures how long each request takes, by route.
package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxRequest bounds a request body (an import passes its file through).
const MaxRequest = 256 << 20

// ExecFunc runs a command line and returns its exit code and output.
type ExecFunc func(ctx context.Context, args []string, stdin []byte) (code int, stdout, stderr []byte)

// ExecRequest is the body of POST /api/v1/exec.
type ExecRequest struct {
	// ID names the request, so that the node runs it once however often it
	// is sent (at most 64 bytes; empty: no such promise).
	ID    string   `json:"id,omitempty"`
	Args  []string `json:"args"`
	Stdin []byte   `json:"stdin,omitempty"`
}

// ExecResponse is its answer.
type ExecResponse struct {
	Code   int    `json:"code"`
	Stdout []byte `json:"stdout"`
	Stderr []byte `json:"stderr"`
}

// Error is the body of every error answer.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Config is what Handler serves.
type Config struct {
	// Token is the home's API token.
	Token string
	// Exec runs command lines for POST /api/v1/exec.
	Exec ExecFunc
	// DAV serves /dav/; nil leaves it out.
	DAV http.Handler
	// Metrics serves GET /metrics; nil leaves it out.
	Metrics http.Handler
	// Observe, if set, is told how long each request took, by route (the
	// path of the pattern that matched) and method.
	Observe func(route, method string, took time.Duration)
	// Web serves everything else: the REST API under /api/v1/ and the web
	// UI (package web). It authenticates on its own — the bearer token, or
	// the UI's session cookie — and times its own routes.
	Web http.Handler
}

// Handler serves the API and what Config adds to it.
func Handler(c Config) http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h http.Handler) {
		if c.Observe != nil {
			_, path, _ := strings.Cut(pattern, " ") // the method is a label of its own
			if path == "" {
				path = pattern
			}
			h = timed(path, c.Observe, h)
		}
		mux.Handle(pattern, h)
	}
	route("GET /api/v1/health", bearer(c.Token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})))
	replay := newReplays()
	route("POST /api/v1/exec", bearer(c.Token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decodeExec(w, r)
		if err != nil {
			status, code := http.StatusBadRequest, "bad_request"
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				status, code = http.StatusRequestEntityTooLarge, "too_large"
			}
			writeJSON(w, status, Error{code, "body: " + err.Error()})
			return
		}
		// The command runs to its end even if the client goes: a resent
		// request waits for this run's answer.
		ctx := context.WithoutCancel(r.Context())
		res, err := replay.run(r.Context(), req.ID, func() ExecResponse {
			code, out, errOut := c.Exec(ctx, req.Args, req.Stdin)
			return ExecResponse{Code: code, Stdout: out, Stderr: errOut}
		})
		if err != nil {
			return // the client left while waiting for the first run
		}
		writeJSON(w, http.StatusOK, res)
	})))
	if c.DAV != nil {
		route("/dav/", tokenOrPassword(c.Token, sameOrigin(c.DAV)))
	}
	if c.Metrics != nil {
		route("GET /metrics", tokenOrPassword(c.Token, c.Metrics))
	}
	if c.Web != nil {
		mux.Handle("/", c.Web)
	}
	return mux
}

// decodeExec reads an exec request strictly: a body that is not UTF-8
// would be decoded with U+FFFD in place of its bytes, and run as another
// command than the one sent.
func decodeExec(w http.ResponseWriter, r *http.Request) (ExecRequest, error) {
	var req ExecRequest
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequest))
	if err != nil {
		return req, err
	}
	if !utf8.Valid(b) {
		return req, errors.New("not valid UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&req); err != nil {
		return req, err
	}
	if len(req.ID) > maxRequestID {
		return req, fmt.Errorf("id: longer than %d bytes", maxRequestID)
	}
	return req, nil
}

// bearer admits requests with the bearer token, and refuses requests a
// browser could send cross-site: they carry an Origin (the CLI sends
// none), or, to change state, a form content type.
func bearer(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hasBearer(r, token) {
			unauthorized(w)
			writeJSON(w, http.StatusUnauthorized, Error{"unauthorized", "missing or wrong bearer token (see <home>/api.token)"})
			return
		}
		if r.Header.Get("Origin") != "" || (r.Method != http.MethodGet && r.Header.Get("Content-Type") != "application/json") {
			writeJSON(w, http.StatusForbidden, Error{"forbidden", "cross-site or non-JSON request refused"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenOrPassword admits requests with the bearer token or with the token
// as the password of basic auth, under any user name. A refusal asks for
// basic auth, so that a file manager or a browser prompts for it.
func tokenOrPassword(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pass, basic := r.BasicAuth()
		if !hasBearer(r, token) && !(basic && subtle.ConstantTimeCompare([]byte(pass), []byte(token)) == 1) {
			unauthorized(w)
			w.Header().Set("WWW-Authenticate", `Basic realm="hearsay", charset="UTF-8"`)
			http.Error(w, "the node's token is needed: as a bearer token, or as the password (any user name); it is in <home>/api.token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hasBearer reports whether r carries the token as a bearer token; the
// scheme's name is case-insensitive (RFC 9110 §11.1).
func hasBearer(r *http.Request, token string) bool {
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(strings.TrimLeft(cred, " ")), []byte(token)) == 1
}

// unauthorized closes the connection after a refusal, so that a client
// without the token holds none of the server's connections.
func unauthorized(w http.ResponseWriter) { w.Header().Set("Connection", "close") }

// sameOrigin refuses what a web page of another origin makes a browser send
// (a browser that holds the basic-auth password would add it): browsers
// name the origin of such requests, WebDAV clients send no Origin at all.
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// timed tells observe how long each request to a route took.
func timed(route string, observe func(route, method string, took time.Duration), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		observe(route, r.Method, time.Since(start))
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
