package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Client reaches a node's API.
type Client struct {
	URL   string
	Token string
	HTTP  *http.Client
}

// ErrUnreachable means no node answered at the URL: no connection was
// made, so the request was never sent and the command did not run there.
var ErrUnreachable = errors.New("node unreachable")

// ErrInDoubt means the connection failed after the request may have
// reached the node: the command may have run, so running it anywhere else
// could run it twice.
var ErrInDoubt = errors.New("the node stopped answering after it may have run the command")

// resends is how often Exec sends a request again after its connection
// failed. The node answers a repeated request id from its first run, so a
// resent write is never written twice.
const resends = 3

// Exec runs a command line in the node, exactly once: a request that may
// have reached the node is only ever sent again to the same node, under
// the same id.
func (c *Client) Exec(ctx context.Context, args []string, stdin []byte) (*ExecResponse, error) {
	for i, a := range args {
		if !utf8.ValidString(a) { // JSON would carry it as U+FFFD: another text than the one given
			return nil, fmt.Errorf("argument %d is not valid UTF-8", i+1)
		}
	}
	body, err := json.Marshal(ExecRequest{ID: rand.Text(), Args: args, Stdin: stdin})
	if err != nil {
		return nil, err
	}
	var doubt error
	for attempt := 0; ; attempt++ {
		res, err := c.send(ctx, body)
		var tf transportFailure
		switch {
		case !errors.As(err, &tf):
			return res, err
		case !tf.connected && doubt == nil:
			return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, c.URL, tf.err)
		case tf.connected:
			doubt = tf.err
		}
		if !tf.connected || attempt == resends {
			return nil, fmt.Errorf("%w (at %s: %v); check whether it did before running it again", ErrInDoubt, c.URL, doubt)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (at %s: %v)", ErrInDoubt, c.URL, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
}

// transportFailure is a request that got no answer; connected says
// whether a connection was made, after which the node may have read it.
type transportFailure struct {
	connected bool
	err       error
}

func (t transportFailure) Error() string { return t.err.Error() }

// send makes one attempt.
func (c *Client) send(ctx context.Context, body []byte) (*ExecResponse, error) {
	var connected atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }})
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
		return nil, transportFailure{connected.Load(), err}
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
		return nil, transportFailure{true, fmt.Errorf("reading the answer: %w", err)}
	}
	return &out, nil
}

// Stream sends one request with body streamed (nil: none) to a route of the
// node, for what an exec request would have to hold whole in memory:
// imports and exports. It is never resent, so a failure after the
// connection was made is ErrInDoubt; one before, ErrUnreachable. A refusal
// by the route is its message. A body that says its size (Size() int64)
// is sent with that Content-Length. The caller closes the answer's body.
func (c *Client) Stream(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Response, error) {
	var connected atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }})
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if s, ok := body.(interface{ Size() int64 }); ok {
		req.ContentLength = s.Size()
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{} // no overall timeout: a stream lasts as long as it moves
	}
	resp, err := hc.Do(req)
	switch {
	case err != nil && connected.Load():
		return nil, fmt.Errorf("%w (at %s: %v)", ErrInDoubt, c.URL, err)
	case err != nil:
		return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, c.URL, err)
	case resp.StatusCode >= 300:
		defer resp.Body.Close()
		var e Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if json.Unmarshal(b, &e) != nil || e.Message == "" {
			e.Message = fmt.Sprintf("node API: %s", resp.Status)
		}
		return nil, errors.New(e.Message)
	}
	return resp, nil
}
