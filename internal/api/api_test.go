package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestExecAndGuard(t *testing.T) {
	srv := httptest.NewServer(Handler("secret", func(_ context.Context, args []string, stdin []byte) (int, []byte, []byte) {
		return 3, []byte(strings.Join(args, " ") + "|" + string(stdin)), []byte("warned")
	}))
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
