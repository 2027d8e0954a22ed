package api

import (
	"io"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Limits bound what a client can hold of the server.
type Limits struct {
	// MaxConns is how many connections are served at once; more wait in
	// the kernel's backlog, so clients cannot exhaust the process's file
	// descriptors (which its store and its peers need).
	MaxConns int
	// Header is how long a client has to send a request's headers.
	Header time.Duration
	// Read is how long a client may pause while sending a body, and Write
	// how long while taking an answer: streams (event streams, imports,
	// exports, files) last as long as they keep moving.
	Read, Write time.Duration
	// Idle is how long a kept-alive connection waits for its next request.
	Idle time.Duration
}

// DefaultLimits serve a few hundred event streams and browser tabs.
var DefaultLimits = Limits{MaxConns: 512, Header: 10 * time.Second, Read: time.Minute, Write: time.Minute, Idle: time.Minute}

// Serve serves h on ln within l until the server returned is shut down.
func Serve(ln net.Listener, h http.Handler, l Limits) *http.Server {
	srv := &http.Server{Handler: deadlines(l, h), ReadHeaderTimeout: l.Header, ReadTimeout: l.Header + l.Read,
		WriteTimeout: l.Write, IdleTimeout: l.Idle}
	go srv.Serve(netutil.LimitListener(ln, l.MaxConns))
	return srv
}

// deadlines turns the server's whole-request deadlines into rolling ones:
// each read of the body and each write of the answer has l.Read or
// l.Write from when it starts. Once the body is read the read deadline is
// lifted, since the server's watch for the client going away reads too,
// and would otherwise end a long command or an event stream.
func deadlines(l Limits, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Body == nil || r.Body == http.NoBody {
			rc.SetReadDeadline(time.Time{})
		} else {
			r.Body = &rollingBody{ReadCloser: r.Body, rc: rc, d: l.Read}
		}
		next.ServeHTTP(&rollingWriter{ResponseWriter: w, rc: rc, d: l.Write}, r)
	})
}

type rollingBody struct {
	io.ReadCloser
	rc *http.ResponseController
	d  time.Duration
}

func (b *rollingBody) Read(p []byte) (int, error) {
	b.rc.SetReadDeadline(time.Now().Add(b.d))
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

type rollingWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (w *rollingWriter) WriteHeader(code int) {
	w.rc.SetWriteDeadline(time.Now().Add(w.d))
	w.ResponseWriter.WriteHeader(code)
}

func (w *rollingWriter) Write(p []byte) (int, error) {
	w.rc.SetWriteDeadline(time.Now().Add(w.d))
	return w.ResponseWriter.Write(p)
}

// Flush sends what is buffered, for event streams.
func (w *rollingWriter) Flush() {
	w.rc.SetWriteDeadline(time.Now().Add(w.d))
	w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *rollingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
