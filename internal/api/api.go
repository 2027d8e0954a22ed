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
)

// MaxRequest bounds a request body (an import passes its file through).
const MaxRequest = 256 << 20

// ExecFunc runs a command line and returns its exit code and output.
type ExecFunc func(ctx context.Context, args []string, stdin []byte) (code int, stdout, stderr []byte)

// ExecRequest is the body of POST /api/v1/exec.
type ExecRequest struct {
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
	route("POST /api/v1/exec", bearer(c.Token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req ExecRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxRequest)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, Error{"bad_request", "body: " + err.Error()})
			return
		}
		code, out, errOut := c.Exec(r.Context(), req.Args, req.Stdin)
		writeJSON(w, http.StatusOK, ExecResponse{Code: code, Stdout: out, Stderr: errOut})
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

// bearer admits requests with the bearer token, and refuses state-changing
// requests a browser could send cross-site (they carry an Origin or a
// form content type; the CLI sends neither).
func bearer(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hasBearer(r, token) {
			writeJSON(w, http.StatusUnauthorized, Error{"unauthorized", "missing or wrong bearer token (see <home>/api.token)"})
			return
		}
		if r.Method != http.MethodGet && (r.Header.Get("Origin") != "" || r.Header.Get("Content-Type") != "application/json") {
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
			w.Header().Set("WWW-Authenticate", `Basic realm="hearsay", charset="UTF-8"`)
			http.Error(w, "the node's token is needed: as a bearer token, or as the password (any user name); it is in <home>/api.token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hasBearer(r *http.Request, token string) bool {
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+token)) == 1
}

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

// Client reaches a node's API.
type Client struct {
	URL   string
	Token string
	HTTP  *http.Client
}

// ErrUnreachable means no node answered at the URL.
var ErrUnreachable = errors.New("node unreachable")

// Exec runs a command line in the node.
func (c *Client) Exec(ctx context.Context, args []string, stdin []byte) (*ExecResponse, error) {
	body, err := json.Marshal(ExecRequest{Args: args, Stdin: stdin})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/api/v1/exec", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, c.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		json.Unmarshal(b, &e)
		return nil, fmt.Errorf("node API: %s (%d)", e.Message, resp.StatusCode)
	}
	var out ExecResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("node API answer: %w", err)
	}
	return &out, nil
}
