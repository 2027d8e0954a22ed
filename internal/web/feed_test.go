package web

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// TestEventStreamsShareStatus: many idle event streams cost one status
// round per period between them, and a group's digest is computed once
// per change of its entries, not per stream and per round; every stream
// still hears of the change.
func TestEventStreamsShareStatus(t *testing.T) {
	n, nw := serving(t)
	s := New(n, nw, Config{Token: token})
	s.feed.period = 50 * time.Millisecond
	srv := httptest.NewServer(s)
	defer srv.Close()
	n.CreateGroup(group.Genesis{Name: "quiet", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota})
	busy, _ := n.CreateGroup(group.Genesis{Name: "busy", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const streams = 50
	var wg sync.WaitGroup
	heard := make(chan string, 2*streams)
	for range streams {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/events", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if l := sc.Text(); strings.HasPrefix(l, "data: ") && strings.Contains(l, `"name":"busy"`) {
					heard <- l
				}
			}
		}()
	}
	for range streams { // each stream's first report of busy
		<-heard
	}
	time.Sleep(10 * s.feed.period) // ten rounds, idle
	scans := func() int {
		s.feed.mu.Lock()
		defer s.feed.mu.Unlock()
		return s.feed.scans
	}
	if got := scans(); got != 2 {
		t.Fatalf("%d digests computed for 2 idle groups and %d streams over 10 rounds, want 2", got, streams)
	}
	if _, err := n.Post(busy, group.Post{Text: "news"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	for range streams {
		if l := <-heard; !strings.Contains(l, `"entries":2`) {
			t.Fatalf("after a post: %s", l)
		}
	}
	time.Sleep(5 * s.feed.period)
	if got := scans(); got != 3 {
		t.Fatalf("%d digests computed after one post, want 3", got)
	}
	cancel()
	wg.Wait()
}
