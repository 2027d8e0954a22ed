package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSimIsDeterministic runs `hearsay sim` twice, with one group and no
// churn, then with groups and churn, then attacked: every figure but the process's own
// wall time, speed and memory is identical (the count of events too).
func TestSimIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--nodes", "300", "--posts", "20", "--seed", "3", "--drop", "0.05"},
		{"--nodes", "200", "--posts", "20", "--seed", "2", "--groups", "5", "--churn", "0.2"},
		{"--nodes", "100", "--posts", "20", "--attack", "sybil"},
	} {
		var runs []map[string]any
		for range 2 {
			var r map[string]any
			out := must(t, hearsay(t, dir, nil, append([]string{"sim", "--json"}, args...)...))
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"wall_s", "max_rss_mb", "events_per_s", "rss_bytes_per_node"} {
				delete(r, k)
			}
			runs = append(runs, r)
		}
		a, _ := json.Marshal(runs[0])
		b, _ := json.Marshal(runs[1])
		if string(a) != string(b) || runs[0]["delivery"] != float64(1) {
			t.Fatalf("sim %s: two runs of one seed:\n%s\n%s", strings.Join(args, " "), a, b)
		}
	}
}

func TestSimRejectsOutOfRange(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--nodes", "1"}, "--nodes must be at least 2"},
		{[]string{"--groups", "0"}, "--groups must be in [1, nodes/2 = 500]"},
		{[]string{"--nodes", "10", "--groups", "6"}, "--groups must be in [1, nodes/2 = 5]"},
		{[]string{"--churn", "1"}, "--churn are fractions in [0, 1)"},
		{[]string{"--churn", "-0.1"}, "--churn are fractions in [0, 1)"},
		{[]string{"--crash", "0.5", "--churn", "0.5"}, "--crash plus --churn must leave some nodes steady"},
		{[]string{"--post-every", "0s"}, "--post-every must be positive"},
		{[]string{"--anti-entropy-every", "0s"}, "--anti-entropy-every must be positive"},
		{[]string{"--min-latency", "60ms", "--max-latency", "50ms"}, "must make a range [0, max]"},
		{[]string{"--prune-window", "-1s"}, "--prune-window must not be negative"},
		{[]string{"--attack", "nope"}, `unknown attack plan "nope"`},
		{[]string{"--attack", "flood", "--attackers", "1"}, "--attackers must be in (0, 1)"},
		{[]string{"--attackers", "0.1"}, "--attackers and --quota want --attack"},
		{[]string{"--attack", "flood", "--quota", "0"}, "--quota must be at least 1"},
		{[]string{"--attack", "flood", "--churn", "0.1"}, "--attack runs in one group, without --crash and --churn"},
		{[]string{"--attack", "flood", "--groups", "2"}, "--attack runs in one group"},
	} {
		r := hearsay(t, dir, nil, append([]string{"sim"}, c.args...)...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
			t.Errorf("sim %s: exit %d, stderr %q; want one line with %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
}
