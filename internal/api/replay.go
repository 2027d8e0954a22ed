package api

import (
	"context"
	"sync"
)

// maxReplays bounds how many answers the node keeps to answer a resent
// request from; a client resends within seconds, so the last thousand are
// plenty.
const maxReplays = 1024

// maxReplayed bounds the size of a kept answer. Writes print an id or a
// line of counts; what prints more is a read, which is safe to run again.
const maxReplayed = 4 << 10

// maxRequestID bounds a request id's length.
const maxRequestID = 64

// replays runs each request id's command once: a request sent again, after
// its client lost the connection, waits for the first run and gets its
// answer.
type replays struct {
	mu    sync.Mutex
	calls map[string]*call
	kept  []string // ids of finished calls still in calls, oldest first
}

type call struct {
	ready chan struct{} // closed once res is set
	res   ExecResponse
}

func newReplays() *replays { return &replays{calls: map[string]*call{}} }

// run answers the request id: the answer of its first run, or of run now.
// An empty id always runs.
func (r *replays) run(ctx context.Context, id string, exec func() ExecResponse) (ExecResponse, error) {
	if id == "" {
		return exec(), nil
	}
	r.mu.Lock()
	c, seen := r.calls[id]
	if !seen {
		c = &call{ready: make(chan struct{})}
		r.calls[id] = c
	}
	r.mu.Unlock()
	if seen {
		select {
		case <-c.ready:
			return c.res, nil
		case <-ctx.Done():
			return ExecResponse{}, ctx.Err()
		}
	}
	c.res = exec()
	close(c.ready)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(c.res.Stdout)+len(c.res.Stderr) > maxReplayed {
		delete(r.calls, id)
		return c.res, nil
	}
	r.kept = append(r.kept, id)
	if len(r.kept) > maxReplays {
		delete(r.calls, r.kept[0])
		r.kept = r.kept[1:]
	}
	return c.res, nil
}
