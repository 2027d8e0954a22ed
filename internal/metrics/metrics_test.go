package metrics

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/store"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the metrics as Prometheus would, failing on text it could
// not parse.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("not valid exposition text: %v", err)
	}
	return fams
}

// value is the value of the series of a family with the given labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func TestMetrics(t *testing.T) {
	h, _, err := home.Init(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(h, store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	nw, err := n.StartNetwork(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	g, err := n.CreateGroup(group.Genesis{Name: "demo", Write: group.WriteMembers, Read: group.ReadPublic, Quota: group.DefaultQuota})
	if err != nil {
		t.Fatal(err)
	}
	m := New(n, nw)
	before := scrape(t, m)
	for _, name := range []string{"hearsay_entries_stored_total", "hearsay_sync_sessions_total", "hearsay_sync_rounds_total",
		"hearsay_sync_bytes_total", "hearsay_broadcast_messages_sent_total", "hearsay_broadcast_bytes_sent_total",
		"hearsay_broadcast_payloads_received_total", "hearsay_broadcast_payloads_delivered_total", "hearsay_broadcast_dropped_total",
		"hearsay_broadcast_refused_total", "hearsay_broadcast_rate_limited_total", "hearsay_peers_banned", "hearsay_peers_scored", "hearsay_peers_connected", "hearsay_overlay_links", "hearsay_broadcast_control_sent_total", "hearsay_group_neighbours", "hearsay_group_entries", "hearsay_store_disk_bytes",
		"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := before[name]; !ok {
			t.Errorf("no metric %s", name)
		}
	}
	if value(t, before, "hearsay_store_disk_bytes") == 0 {
		t.Error("a store of one group takes no disk")
	}

	if _, err := n.Post(g, group.Post{Text: "hello"}, entry.ID{}); err != nil {
		t.Fatal(err)
	}
	m.Observe("/api/v1/exec", "POST", 3*time.Millisecond)
	m.Observe("/dav/", "BREW", time.Millisecond)
	after := scrape(t, m)
	if b, a := value(t, before, "hearsay_entries_stored_total", "source", "own"), value(t, after, "hearsay_entries_stored_total", "source", "own"); a != b+1 {
		t.Errorf("own entries stored: %v, then %v after a post", b, a)
	}
	if b, a := value(t, before, "hearsay_group_entries", "group", g.String(), "name", "demo"), value(t, after, "hearsay_group_entries", "group", g.String()); a != b+1 {
		t.Errorf("entries of the group: %v, then %v after a post", b, a)
	}
	if got := value(t, after, "hearsay_api_request_duration_seconds", "route", "/api/v1/exec", "method", "POST"); got != 1 {
		t.Errorf("requests observed: %v", got)
	}
	if got := value(t, after, "hearsay_api_request_duration_seconds", "route", "/dav/", "method", "other"); got != 1 {
		t.Errorf("a made-up method: %v", got)
	}
}
