package main

import (
	"strings"
	"testing"
)

func TestMemTotal(t *testing.T) {
	for in, want := range map[string]int64{
		"MemTotal:       24609268 kB\nMemFree:        1000 kB\n": 24609268 << 10,
		"MemFree:        1000 kB\nMemTotal: 2048 kB\n":           2048 << 10,
		"MemTotal: lots kB\n":                                    0,
		"MemTotal: 2048 MB\n":                                    0,
		"":                                                       0,
	} {
		if got := memTotal(strings.NewReader(in)); got != want {
			t.Errorf("%q: %d, want %d", in, got, want)
		}
	}
}
