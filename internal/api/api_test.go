package api

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestExecAndGuard(t *testing.T) {
	srv := httptest.NewServer(Handler(Config{Token: "secret", Exec: func(_ context.Context, args []string, stdin []byte) (int, []byte, []byte) {
		return 3, []byte(strings.Join(args, " ") + "|" + string(stdin)), []byte("warned")
	}}))
	defer srv.Close()
	c := &Client{URL: srv.URL, Token: "secret"}
	res, err := c.Exec(context.Background(), []string{"log", "demo"}, []byte("in"))
	if err != nil || res.Code != 3 || string(res.Stdout) != "log demo|in" || string(res.Stderr) != "warned" {
		t.Fatalf("Exec: %+v, %v", res, err)
	}
	if _, err := (&Client{URL: srv.URL, Token: "wrong"}).Exec(context.Background(), nil, nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a wrong token: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/exec", strings.NewReader(`{"args":["post","g","x"]}`))
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Content-Type", "text/plain") // what a cross-site form can send
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site style request: %d", resp.StatusCode)
	}
	if _, err := (&Client{URL: "http://127.0.0.1:1", Token: "x"}).Exec(context.Background(), nil, nil); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("no node: %v", err)
	}
}

// TestFolderAndMetricsAuth: /dav/ and /metrics take the token as a bearer
// token or as a basic-auth password, and say how when it is missing;
// /dav/ refuses what a page of another origin makes a browser send.
func TestFolderAndMetricsAuth(t *testing.T) {
	var mu sync.Mutex
	var routes []string
	observed := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(routes)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "served") })
	srv := httptest.NewServer(Handler(Config{Token: "secret", DAV: ok, Metrics: ok,
		Observe: func(route, method string, _ time.Duration) {
			mu.Lock()
			routes = append(routes, method+" "+route)
			mu.Unlock()
		}}))
	defer srv.Close()
	do := func(method, path string, header ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate") + string(b)
	}
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	for _, path := range []string{"/dav/x", "/metrics"} {
		for _, auth := range []string{"Bearer secret", basic("anyone", "secret"), basic("", "secret")} {
			if code, body := do("GET", path, "Authorization", auth); code != http.StatusOK || body != "served" {
				t.Fatalf("GET %s with %q: %d %s", path, auth, code, body)
			}
		}
		for _, auth := range []string{"", "Bearer wrong", basic("secret", "wrong"), "Basic !!"} {
			if code, body := do("GET", path, "Authorization", auth); code != http.StatusUnauthorized || !strings.Contains(body, `Basic realm="hearsay"`) || !strings.Contains(body, "api.token") {
				t.Fatalf("GET %s with %q: %d %s", path, auth, code, body)
			}
		}
	}
	if code, _ := do("PUT", "/dav/x", "Authorization", "Bearer secret", "Origin", "http://evil.example"); code != http.StatusForbidden {
		t.Fatalf("a cross-origin PUT: %d", code)
	}
	if code, _ := do("PUT", "/dav/x", "Authorization", "Bearer secret", "Origin", srv.URL); code != http.StatusOK {
		t.Fatalf("a same-origin PUT: %d", code)
	}
	if code, _ := do("POST", "/metrics", "Authorization", "Bearer secret"); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /metrics: %d", code)
	}
	// The API itself takes no password: a browser that holds one must not
	// reach the command bridge with it.
	if code, _ := do("GET", "/api/v1/health", "Authorization", basic("x", "secret")); code != http.StatusUnauthorized {
		t.Fatalf("the API with a password: %d", code)
	}
	// A request is observed once answered, which the client may see first.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got := observed()
		if slices.Contains(got, "PUT /dav/") && slices.Contains(got, "GET /metrics") && slices.Contains(got, "GET /api/v1/health") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("observed %v", got)
		}
	}
	plain := httptest.NewServer(Handler(Config{Token: "secret"}))
	defer plain.Close()
	req, _ := http.NewRequest("GET", plain.URL+"/dav/x", nil)
	req.Header.Set("Authorization", "Bearer secret")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/dav/ when not configured: %v %v", resp, err)
	}
}
