package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/node"
)

// statusEvery is how often the event streams' feed checks the groups'
// standing (entries, digest, neighbours, last sync); each stream reports
// what changed.
const statusEvery = 2 * time.Second

// keepAlive spaces comments on an idle stream, so proxies and browsers do
// not time it out.
const keepAlive = 15 * time.Second

// events streams Server-Sent Events: `entry` (a node.Stored) for every
// entry stored, `status` (a node.GroupStatus) for a group whose standing
// changed, the first time for every group, from the feed all streams
// share. A client that falls behind has its stream ended; EventSource
// reconnects by itself.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	var only *entry.ID
	if q := r.URL.Query().Get("group"); q != "" {
		g, err := s.n.ResolveGroup(q)
		if err != nil {
			writeError(w, err)
			return
		}
		only = &g.ID
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		fail(w, http.StatusInternalServerError, CodeInternal, "streaming is not supported here")
		return
	}
	stored, cancel := s.n.Subscribe(1024)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) error {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return err
		}
		fl.Flush()
		return nil
	}
	f := s.feed
	f.join()
	defer f.leave()
	last := map[string]string{}
	// report sends the standing of every group that changed since this
	// stream last sent it.
	report := func(groups []groupStanding) error {
		for _, g := range groups {
			if (only != nil && g.id != only.String()) || last[g.id] == g.json {
				continue
			}
			last[g.id] = g.json
			if err := send("status", g.gst); err != nil {
				return err
			}
		}
		return nil
	}
	groups, changed := f.current()
	if report(groups) != nil {
		return
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, open := <-stored:
			if !open {
				return
			}
			if only != nil && e.Group != *only {
				continue
			}
			if send("entry", eventOf(e)) != nil {
				return
			}
		case <-changed:
			groups, changed = f.current()
			if report(groups) != nil {
				return
			}
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// EntryEvent is the data of an `entry` event.
type EntryEvent struct {
	Group string `json:"group"`
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	HLC   uint64 `json:"hlc"`
}

func eventOf(e node.Stored) EntryEvent {
	return EntryEvent{Group: e.Group.String(), ID: e.ID.String(), Kind: e.Kind, HLC: uint64(e.HLC)}
}
