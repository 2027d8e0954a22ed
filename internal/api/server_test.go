package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveLimited serves the API, with web as its Web handler, within l.
func serveLimited(t *testing.T, l Limits, web http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := Serve(ln, Handler(Config{Token: "secret", Web: web}), l)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// closedByServer reports whether the server closes conn within d.
func closedByServer(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	return err == nil // EOF; a timeout of ours is an error
}

// TestConnectionLimits: silent clients lose their connection after the
// header timeout, a refused one right after its 401, an idle one after the
// idle timeout; and no more than MaxConns are served at once.
func TestConnectionLimits(t *testing.T) {
	l := Limits{MaxConns: 3, Header: 200 * time.Millisecond, Read: 200 * time.Millisecond, Write: 200 * time.Millisecond, Idle: 200 * time.Millisecond}
	addr := serveLimited(t, l, http.NotFoundHandler())
	silent, _ := net.Dial("tcp", addr)
	defer silent.Close()
	if !closedByServer(silent, 3*time.Second) {
		t.Fatal("a connection that sends nothing stays open")
	}
	refused, _ := net.Dial("tcp", addr)
	defer refused.Close()
	fmt.Fprint(refused, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(refused), nil); err != nil || resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Fatalf("without the token: %v %v", resp, err)
	}
	if !closedByServer(refused, 3*time.Second) {
		t.Fatal("a connection stays open after its 401")
	}
	idle, _ := net.Dial("tcp", addr)
	defer idle.Close()
	fmt.Fprint(idle, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil || resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("with the token: %v %v", resp, err)
	}
	if !closedByServer(idle, 3*time.Second) {
		t.Fatal("an idle kept-alive connection stays open")
	}

	l.Header = time.Minute // the held connections stay until closed
	addr = serveLimited(t, l, http.NotFoundHandler())
	var held []net.Conn
	for range l.MaxConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	answered := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/health", nil)
		req.Header.Set("Authorization", "bearer secret") // the scheme is case-insensitive
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		t.Fatalf("a request beyond the limit was served while %d connections are held: %v", l.MaxConns, err)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close()
	if err := <-answered; err != nil {
		t.Fatalf("once a connection is free: %v", err)
	}
}

// TestStreamsOutlastTimeouts: a stream that keeps moving, and a body that
// does, last longer than the read and write timeouts, and the request's
// context stays live all along.
func TestStreamsOutlastTimeouts(t *testing.T) {
	l := Limits{MaxConns: 8, Header: 100 * time.Millisecond, Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, Idle: time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		for i := range 8 {
			fmt.Fprintf(w, "event %d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(150 * time.Millisecond)
		}
		fmt.Fprintf(w, "context: %v\n", r.Context().Err())
	})
	mux.HandleFunc("POST /body", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		time.Sleep(600 * time.Millisecond) // work longer than the read timeout, after the body
		fmt.Fprintf(w, "%d %v %v", n, err, r.Context().Err())
	})
	addr := serveLimited(t, l, mux)
	get := func(req *http.Request) string {
		t.Helper()
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s: %v after %q", req.URL.Path, err, b)
		}
		return string(b)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/stream", nil)
	if got := get(req); !strings.HasSuffix(got, "event 7\ncontext: <nil>\n") {
		t.Fatalf("stream: %q", got)
	}
	pr, pw := io.Pipe()
	go func() {
		for range 5 {
			pw.Write([]byte("0123456789"))
			time.Sleep(150 * time.Millisecond)
		}
		pw.Close()
	}()
	req, _ = http.NewRequest("POST", "http://"+addr+"/body", pr)
	req.Header.Set("Content-Type", "application/json")
	if got := get(req); got != "50 <nil> <nil>" {
		t.Fatalf("slow body: %q", got)
	}
}
