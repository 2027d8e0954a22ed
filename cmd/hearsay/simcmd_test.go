package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSimIsDeterministic runs `hearsay sim` twice: every figure but the
// process's own wall time and memory is identical.
func TestSimIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	var runs []map[string]any
	for range 2 {
		var r map[string]any
		if err := json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "sim", "--nodes", "300", "--posts", "20", "--seed", "3", "--drop", "0.05", "--json"))), &r); err != nil {
			t.Fatal(err)
		}
		delete(r, "wall_s")
		delete(r, "max_rss_mb")
		runs = append(runs, r)
	}
	a, _ := json.Marshal(runs[0])
	b, _ := json.Marshal(runs[1])
	if string(a) != string(b) || runs[0]["delivery"] != float64(1) {
		t.Fatalf("two runs of one seed:\n%s\n%s", a, b)
	}
	if r := hearsay(t, dir, nil, "sim", "--churn", "0.1"); r.code != 1 || !strings.Contains(r.stderr, "not simulated yet") {
		t.Fatalf("--churn: exit %d %q", r.code, r.stderr)
	}
}
