package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// cutAfterReading is a node that reads each request, then drops the
// connection without answering: whether it ran the command is unknown.
func cutAfterReading(t *testing.T, next http.Handler, first bool) (*httptest.Server, *atomic.Int32) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := requests.Add(1); first && n > 1 {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(httptest.NewRecorder(), r)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// TestExecInDoubt: a connection cut after the request was sent is not
// "no node": the client says the command may have run, so that the CLI
// never runs it a second time on its own store.
func TestExecInDoubt(t *testing.T) {
	drain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	srv, requests := cutAfterReading(t, drain, false)
	_, err := (&Client{URL: srv.URL, Token: "secret"}).Exec(context.Background(), []string{"post", "g", "x"}, nil)
	if !errors.Is(err, ErrInDoubt) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("a connection cut after the request: %v", err)
	}
	if n := requests.Load(); n != 1+resends {
		t.Fatalf("sent %d times, want %d", n, 1+resends)
	}
}

// TestExecResentRunsOnce: the client sends a request again after a cut
// connection, and the node answers it from the first run.
func TestExecResentRunsOnce(t *testing.T) {
	var runs atomic.Int32
	h := Handler(Config{Token: "secret", Exec: func(context.Context, []string, []byte) (int, []byte, []byte) {
		runs.Add(1)
		return 0, []byte("stored once\n"), nil
	}})
	srv, requests := cutAfterReading(t, h, true)
	res, err := (&Client{URL: srv.URL, Token: "secret"}).Exec(context.Background(), []string{"post", "g", "x"}, nil)
	if err != nil || string(res.Stdout) != "stored once\n" {
		t.Fatalf("Exec: %+v, %v", res, err)
	}
	if requests.Load() != 2 || runs.Load() != 1 {
		t.Fatalf("%d requests ran the command %d times, want 2 and 1", requests.Load(), runs.Load())
	}
}

// TestReplaysBounded: the node keeps a bounded number of answers, and no
// large ones.
func TestReplaysBounded(t *testing.T) {
	r := newReplays()
	for i := range maxReplays + 10 {
		r.run(context.Background(), string(rune('a'+i%26))+string(rune(i)), func() ExecResponse { return ExecResponse{} })
	}
	r.run(context.Background(), "big", func() ExecResponse { return ExecResponse{Stdout: make([]byte, maxReplayed+1)} })
	if len(r.calls) != maxReplays || len(r.kept) != maxReplays {
		t.Fatalf("%d answers kept, %d listed, want %d", len(r.calls), len(r.kept), maxReplays)
	}
}

// TestExecRefusesBadBodies: a body that is not UTF-8 (JSON would carry
// U+FFFD in its place) is a 400, and any request with an Origin, a read
// too, a 403; neither runs a command, nor does the client send an argument
// that is not UTF-8.
func TestExecRefusesBadBodies(t *testing.T) {
	var runs atomic.Int32
	srv := httptest.NewServer(Handler(Config{Token: "secret", Exec: func(context.Context, []string, []byte) (int, []byte, []byte) {
		runs.Add(1)
		return 0, nil, nil
	}}))
	defer srv.Close()
	do := func(method, path string, body io.Reader, origin string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, body)
		req.Header.Set("Authorization", "bearer secret")
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := do("POST", "/api/v1/exec", strings.NewReader("{\"args\":[\"post\",\"g\",\"\xff\"]}"), ""); code != http.StatusBadRequest {
		t.Fatalf("not UTF-8: %d", code)
	}
	if code := do("GET", "/api/v1/health", nil, "http://evil.example"); code != http.StatusForbidden {
		t.Fatalf("a read from a page: %d", code)
	}
	if code := do("POST", "/api/v1/exec", strings.NewReader(`{"args":["id"]}`), ""); code != http.StatusOK || runs.Load() != 1 {
		t.Fatalf("a good request: %d, %d runs", code, runs.Load())
	}
	if _, err := (&Client{URL: srv.URL, Token: "secret"}).Exec(context.Background(), []string{"post", "g", "\xff"}, nil); err == nil || runs.Load() != 1 {
		t.Fatalf("the client sent an argument that is not UTF-8: %v", err)
	}
}
