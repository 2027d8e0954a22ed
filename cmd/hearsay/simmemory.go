package main

import (
	"bufio"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// limitSimMemory caps the heap the collector lets a simulation grow to, at
// three quarters of the machine's memory, unless GOMEMLIMIT sets a limit.
// Go's default target is twice the heap live after the last collection:
// at 10^6 nodes that is more than a 24 GiB machine holds, and the run
// swapped or died; with the cap the collector runs more often instead
// (docs/scale.md, "10^6 nodes, on an idle machine").
func limitSimMemory() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return // not Linux: the collector's default
	}
	defer f.Close()
	if total := memTotal(f); total > 0 {
		debug.SetMemoryLimit(total / 4 * 3)
	}
}

// memTotal reads the bytes of memory from a /proc/meminfo, or 0.
func memTotal(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb <= 0 || kb > 1<<40 {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
