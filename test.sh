#!/usr/bin/env bash
# The project's test command: README.md shows it and .ci/run runs it.
#
#   ./test.sh          vet, then every test (times: docs/benchmarks.md, "The test suite")
#   ./test.sh -long    the same, then the soaks: more simulator seeds (and the
#                      links a node would need choosing alone), 1 GiB through
#                      real nodes, a forum of 100,000 posts in Chromium, a full
#                      disk, ten nodes under load for 30 s, sixteen nodes in four
#                      groups with links shared and not, and every fuzz target
#                      for 2 s (CI runs this)
#
# The tests drive real programs — rclone, litmus, Chromium, curl, Python's
# nntplib, slrn in tmux, and ip and iptables for the NATs the reachability
# tests build in network namespaces (as root) — and -race needs a C
# compiler; they fail, not skip, without them. As root this installs
# what is missing with apt-get; otherwise it names the packages and stops.
set -euo pipefail
cd "$(dirname "$0")"

long=false
for arg in "$@"; do
	case $arg in
	-long | --long) long=true ;;
	*)
		echo "usage: ./test.sh [-long]" >&2
		exit 2
		;;
	esac
done

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
	export PATH="$PATH:/usr/local/go/bin"
fi
if ! command -v go >/dev/null; then
	echo "test.sh: Go is not installed: install Go 1.26 (https://go.dev/doc/install) and put it on PATH" >&2
	exit 1
fi

# What the tests need, as "Debian package:how to tell it is there".
missing=()
for need in rclone:rclone litmus:litmus chromium:chromium curl:curl gcc:gcc \
	libc6-dev:/usr/include/stdio.h ca-certificates:/etc/ssl/certs/ca-certificates.crt \
	python3:python3 slrn:slrn tmux:tmux iproute2:ip iptables:iptables; do
	pkg=${need%%:*} probe=${need#*:}
	if [[ $probe == /* ]]; then
		[ -e "$probe" ] || missing+=("$pkg")
	else
		command -v "$probe" >/dev/null || missing+=("$pkg")
	fi
done
if ((${#missing[@]})); then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "test.sh: the tests need ${missing[*]}: install them (sudo apt-get install ${missing[*]}) and run ./test.sh again" >&2
		exit 1
	fi
	echo "test.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A race-instrumented process sleeps 1 s at exit by default; the cmd/hearsay
# tests run their own test binary as every command and node, and without that
# sleep the package took 214 s, not 633 s. A GORACE of the caller's own wins.
export GORACE="atexit_sleep_ms=0${GORACE:+ $GORACE}"

# The pure packages (docs/architecture.md: no goroutines, disk, network or
# clock) start no goroutines of their own (negentropy's interop test runs
# go-nostr in two) and are CPU-bound, so the race detector mostly slows them
# down (internal/sim 74 s against 12 s): they run without it.
# Every other package, including any new one, runs with -race.
pure=(
	hearsay/internal hearsay/internal/hlc hearsay/internal/entry hearsay/internal/secret hearsay/internal/strictjson
	hearsay/internal/group hearsay/internal/archive hearsay/internal/wire hearsay/internal/blob
	hearsay/internal/view hearsay/internal/proto/negentropy hearsay/internal/proto/hyparview
	hearsay/internal/proto/plumtree hearsay/internal/proto/score hearsay/internal/proto/storage hearsay/internal/proto/topic hearsay/internal/sim
)
# internal/node's tests keep both cores busy for two minutes under -race
# (ed25519 and Pebble over 100,000 entries); beside them, timing tests of
# cmd/hearsay and internal/gossip failed. So each of the two runs alone.
alone=(hearsay/internal/node hearsay/cmd/hearsay)
racy=()
while read -r pkg; do
	[[ " ${pure[*]} ${alone[*]} " == *" $pkg "* ]] || racy+=("$pkg")
done < <(go list ./...)

# phase NAME COMMAND... runs one step and reports its time; a failed step
# does not stop the later ones, so one run shows every failure.
failed=()
phase() {
	local name=$1 start=$SECONDS
	shift
	echo "test.sh: $name: $*"
	if "$@"; then
		echo "test.sh: $name: ok, $((SECONDS - start)) s"
	else
		echo "test.sh: $name: FAILED, $((SECONDS - start)) s"
		failed+=("$name")
	fi
}

# fuzz_all TIME fuzzes every Fuzz target of the module for TIME each (their
# seed corpora run in every test run besides; docs/reliability.md has the
# longer campaigns). New targets are found by their name. Fuzzing
# instruments every package a test links: for the few that link libp2p
# that build alone took 6 minutes cold, so those run their seeds only here
# (said, not skipped silently) and are fuzzed in the campaigns.
fuzz_all() {
	local ok=true dir name out
	out=$(mktemp)
	while read -r dir name; do
		if go list -deps "./$dir" | grep -qx 'github.com/libp2p/go-libp2p'; then
			echo "test.sh: fuzz: $dir $name: seeds only (it links libp2p); see docs/reliability.md, Fuzzing"
			continue
		fi
		fuzz_one "$dir" "$name" "$1" "$out" || ok=false
	done < <(grep -rHo '^func Fuzz[A-Za-z0-9_]*' --include='*_test.go' internal cmd |
		sed 's|/[^/]*_test.go:func | |' | sort -u)
	rm -f "$out"
	$ok
}

# fuzz_one DIR NAME TIME OUT fuzzes one target. Go 1.26's coordinator can
# fail a timed run that found nothing, with "context deadline exceeded" and
# no input written, when its deadline fires (go.dev/issue/75804, fixed in Go
# 1.27; it failed two targets of 19 in one CI run). Such a run is said and
# fuzzed again for as many inputs as it reached, counted, not timed: a count
# has no deadline to race. A run that wrote a failing input fails at once.
fuzz_one() {
	local dir=$1 name=$2 time=$3 out=$4 execs
	fuzz_run "$dir" "$name" "$time" "$out" && return 0
	if grep -q 'Failing input written to' "$out" || ! grep -q 'context deadline exceeded' "$out"; then
		fuzz_failed "$dir" "$name" "$out"
		return 1
	fi
	execs=$(grep -o 'execs: [0-9]*' "$out" | tail -1 | tr -dc 0-9)
	echo "test.sh: fuzz: $dir $name: no input failed, but Go's fuzzing deadline did (go.dev/issue/75804); again for ${execs:-0} inputs, counted"
	fuzz_run "$dir" "$name" "$((${execs:-0} + 1))x" "$out" && return 0
	fuzz_failed "$dir" "$name" "$out"
	return 1
}

fuzz_run() {
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$3" -parallel 2 "./$1" >"$4" 2>&1
}

fuzz_failed() {
	cat "$3"
	echo "test.sh: fuzz: $1 $2 failed; a failing input it found is in $1/testdata/fuzz/$2"
}

go version
# vet with -race: vet type-checks against compiled dependencies, and with the
# same flags as the race tests those are compiled once, not twice.
phase vet go vet -race ./...
phase pure go test -timeout 20m "${pure[@]}"
phase race go test -race -timeout 20m "${racy[@]}"
for pkg in "${alone[@]}"; do
	phase "${pkg#hearsay/}" go test -race -timeout 20m "$pkg"
done
if $long; then
	# What -long adds must keep a cold run of the whole within CI's 20
	# minutes on 2 cores (docs/benchmarks.md, "The test suite"). The
	# partitions and the crash points run in the default suite (3 rounds, 10
	# kills, race-built); their acceptance runs (12 rounds, 100 kills) are
	# in docs/reliability.md with their commands.
	# The fault seeds ran in the pure step, and the same seeds give the same runs.
	phase sim-soak go test -count=1 -timeout 30m -skip '^TestFaultSeeds$' ./internal/sim -args -sim.seeds 8 -sim.alone
	# Without -race (one more build of the graph, ~2 min cold): these report
	# throughput and bound peak memory, which the race detector multiplies.
	phase files-soak go test -count=1 -timeout 40m -v \
		-run '^(TestFileGigabyte|TestExportGigabyteThroughNode)$' ./cmd/hearsay -args -files.gib -stream.gib
	phase forum-soak go test -count=1 -timeout 10m -v -run '^(TestForumAtScale|TestForumCatchesUpAfterABurst)$' ./cmd/hearsay -args -forum.posts 100000
	# Not race-built: under -race a post on the full disk hung in five runs
	# of five (docs/reliability.md); without it, it passes.
	phase full-disk go test -count=1 -timeout 3m -v -run '^TestFullDisk$' ./cmd/hearsay -args -disk.full
	phase load-soak go test -count=1 -timeout 10m -v -run '^TestLoadSoak$' ./cmd/hearsay -args -soak.for 30s
	phase links-real go test -count=1 -timeout 10m -v -run '^TestSharedLinksOnRealNodes$' ./cmd/hearsay -args -links.real
	phase fuzz fuzz_all 2s
fi
if ((${#failed[@]})); then
	echo "test.sh: FAILED after $SECONDS s: ${failed[*]}"
	exit 1
fi
echo "test.sh: ok after $SECONDS s"
