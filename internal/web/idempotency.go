package web

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"sync"
)

// IdempotencyKey names a write so that the node runs it once however often
// a client sends it: a client that lost the connection sends it again with
// the same key and gets the first answer (after the IETF draft
// "The Idempotency-Key HTTP Header Field").
const IdempotencyKey = "Idempotency-Key"

// maxKeys bounds the answers kept; a client resends within seconds.
const maxKeys = 1024

// maxKeyLen bounds a key's length.
const maxKeyLen = 64

// maxKept bounds an answer kept: writes answer an id or a short result.
const maxKept = 4 << 10

// answer is a JSON answer, encoded.
type answer struct {
	status int
	body   []byte
}

// onceByKey runs each key's write once.
type onceByKey struct {
	mu    sync.Mutex
	calls map[string]*keyed
	kept  []string // keys of finished calls still in calls, oldest first
}

type keyed struct {
	request [32]byte      // what was sent: method, path and body
	ready   chan struct{} // closed once res is set
	res     answer
}

func newOnceByKey() *onceByKey { return &onceByKey{calls: map[string]*keyed{}} }

// run answers r, whose key is key, with the answer of the first request
// with that key, or of run now. A key sent with another request is
// refused. Answers of 5xx are not kept: nothing was written, so a retry
// may run.
func (o *onceByKey) run(r *http.Request, key string, run func() answer) answer {
	if len(key) > maxKeyLen {
		return encoded(http.StatusBadRequest, Error{CodeBadRequest, "Idempotency-Key: longer than 64 bytes"})
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, maxJSON+1)) // enough to tell requests apart
	if err != nil {
		return encoded(http.StatusBadRequest, Error{CodeBadRequest, "body: " + err.Error()})
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	h := sha256.New()
	io.WriteString(h, r.Method+" "+r.URL.Path+"\n")
	h.Write(head)
	var request [32]byte
	h.Sum(request[:0])

	o.mu.Lock()
	c, seen := o.calls[key]
	if !seen {
		c = &keyed{request: request, ready: make(chan struct{})}
		o.calls[key] = c
	}
	o.mu.Unlock()
	if seen {
		if c.request != request {
			return encoded(http.StatusBadRequest, Error{CodeBadRequest, "Idempotency-Key: already used for another request"})
		}
		select {
		case <-c.ready:
			return c.res
		case <-r.Context().Done():
			return encoded(http.StatusServiceUnavailable, Error{CodeUnavailable, "the client left while the first request with this key ran"})
		}
	}
	c.res = run()
	close(c.ready)
	o.mu.Lock()
	defer o.mu.Unlock()
	if c.res.status >= 500 || len(c.res.body) > maxKept {
		delete(o.calls, key)
		return c.res
	}
	o.kept = append(o.kept, key)
	if len(o.kept) > maxKeys {
		delete(o.calls, o.kept[0])
		o.kept = o.kept[1:]
	}
	return c.res
}
