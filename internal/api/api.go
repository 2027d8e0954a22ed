// Package api is the node's local HTTP API, on 127.0.0.1 by default and
// open only to holders of the home's token (a bearer token). For now it has
// one operation the CLI needs: run a command line inside the serving
// process, against its open store, so that every CLI command works
// unchanged while a node runs.
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

// Handler serves the API.
func Handler(token string, exec ExecFunc) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST /api/v1/exec", func(w http.ResponseWriter, r *http.Request) {
		var req ExecRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxRequest)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, Error{"bad_request", "body: " + err.Error()})
			return
		}
		code, out, errOut := exec(r.Context(), req.Args, req.Stdin)
		writeJSON(w, http.StatusOK, ExecResponse{Code: code, Stdout: out, Stderr: errOut})
	})
	return guard(token, mux)
}

// guard admits requests with the bearer token, and refuses state-changing
// requests a browser could send cross-site (they carry an Origin or a
// form content type; the CLI sends neither).
func guard(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
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
