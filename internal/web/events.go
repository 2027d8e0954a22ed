package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/node"
)

// statusEvery is how often an event stream checks the groups' standing
// (entries, digest, neighbours, last sync) and reports what changed.
const statusEvery = 2 * time.Second

// keepAlive spaces comments on an idle stream, so proxies and browsers do
// not time it out.
const keepAlive = 15 * time.Second

// events streams Server-Sent Events: `entry` (a node.Stored) for every
// entry stored, `status` (a node.GroupStatus) for a group whose standing
// changed, the first time for every group. A client that falls behind has
// its stream ended; EventSource reconnects by itself.
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
	last := map[string]string{}
	report := func() error {
		st, err := s.n.Status(s.nw)
		if err != nil {
			return err
		}
		for _, g := range st.Groups {
			if only != nil && g.ID != only.String() {
				continue
			}
			b, _ := json.Marshal(g)
			if last[g.ID] != string(b) {
				last[g.ID] = string(b)
				if err := send("status", g); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if report() != nil {
		return
	}
	tick, ping := time.NewTicker(statusEvery), time.NewTicker(keepAlive)
	defer tick.Stop()
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
		case <-tick.C:
			if report() != nil {
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
