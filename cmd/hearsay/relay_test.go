package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hearsay/internal/node"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	pbv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/pb"
	ma "github.com/multiformats/go-multiaddr"
)

// rssKiB is a process's resident memory.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kib)
			return kib
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// relayStatus is the relay part of the status of the node serving home h.
func relayStatus(t *testing.T, dir, h string) *node.Status {
	t.Helper()
	var st node.Status
	if err := json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "--home", h, "status", "--json"))), &st); err != nil {
		t.Fatal(err)
	}
	if st.Reach == nil || st.Reach.Relay == nil {
		t.Fatalf("status without a relay: %+v", st)
	}
	return &st
}

// TestRelayLimits: a public node relays within the limits its operator
// set: past its slots, a reservation is refused; past the circuits one
// peer may have, a relayed connection is refused; a relayed connection is
// reset once it carried its bytes; and hammering it all leaves the relay's
// memory bounded.
func TestRelayLimits(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "relay", "init"))
	r := serve(t, dir, "--home", "relay", "--reachability", "public", "--relay-reservations", "3", "--relay-circuits", "2",
		"--relay-data", "64KiB", "--relay-duration", "30s", "--relay-per-ip", "64")
	relayInfo, err := peer.AddrInfoFromString(r.addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the relay serving", func() bool { return relayStatus(t, dir, "relay").Reach.Relay.Active })

	newHost := func() host.Host {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	reserve := func(h host.Host) error {
		if err := h.Connect(ctx, *relayInfo); err != nil {
			t.Fatal(err)
		}
		_, err := client.Reserve(ctx, h, *relayInfo)
		return err
	}

	// Three slots: the fourth and fifth peers are refused.
	var holders []host.Host
	refused := 0
	for range 5 {
		h := newHost()
		err := reserve(h)
		var re client.ReservationError
		switch {
		case err == nil:
			holders = append(holders, h)
		case errors.As(err, &re) && re.Status == pbv2.Status_RESERVATION_REFUSED:
			refused++
		default:
			t.Fatalf("reserve: %v", err)
		}
	}
	if len(holders) != 3 || refused != 2 {
		t.Fatalf("%d reservations held, %d refused; want 3 and 2", len(holders), refused)
	}

	// Two circuits to one peer: a third dialler is refused.
	target := holders[0]
	var received atomic.Int64
	target.SetStreamHandler("/test/sink", func(s network.Stream) {
		n, _ := io.Copy(io.Discard, s)
		received.Add(n)
		s.Close()
	})
	circuit := peer.AddrInfo{ID: target.ID(), Addrs: []ma.Multiaddr{ma.StringCast(r.addrs[0] + "/p2p-circuit")}}
	var dialers []host.Host
	circuitRefused := 0
	for range 3 {
		d := newHost()
		if err := d.Connect(network.WithAllowLimitedConn(ctx, "test"), circuit); err != nil {
			if !strings.Contains(err.Error(), "RESOURCE_LIMIT_EXCEEDED") {
				t.Fatalf("a relayed dial refused, but not for the limit: %v", err)
			}
			circuitRefused++
			continue
		}
		dialers = append(dialers, d)
	}
	if len(dialers) != 2 || circuitRefused != 1 {
		t.Fatalf("%d circuits to one peer, %d refused; want 2 and 1", len(dialers), circuitRefused)
	}

	// A circuit carries 64 KiB each way, then it is reset.
	send := func(d host.Host, n int) error {
		s, err := d.NewStream(network.WithAllowLimitedConn(ctx, "test"), target.ID(), "/test/sink")
		if err != nil {
			return err
		}
		_, err = s.Write(make([]byte, n))
		if err == nil {
			err = s.CloseWrite()
		}
		if err == nil {
			_, err = io.Copy(io.Discard, s)
		}
		return err
	}
	if err := send(dialers[0], 256<<10); err == nil {
		t.Fatal("256 KiB went through a relayed connection limited to 64 KiB")
	}
	if got := received.Load(); got >= 64<<10 {
		t.Fatalf("the target received %d bytes through a circuit limited to 64 KiB", got)
	}

	// Hammer it: slots asked for again and again, circuits opened, filled
	// to their limit and dropped.
	before := rssKiB(t, r.cmd.Process.Pid)
	for range 20 {
		for _, h := range holders[1:] {
			reserve(h)
		}
		d := newHost()
		if d.Connect(network.WithAllowLimitedConn(ctx, "test"), circuit) == nil {
			send(d, 256<<10)
		}
		d.Close()
	}
	time.Sleep(time.Second)
	after := rssKiB(t, r.cmd.Process.Pid)
	st := relayStatus(t, dir, "relay").Reach.Relay
	t.Logf("relay: resident %d KiB before the hammering, %d KiB after; circuit buffers bounded by %d B; %d reservations refused, %d circuits refused, %d B relayed, %d circuits open",
		before, after, st.MemoryBoundBytes, st.ReservationsRefused, st.CircuitsRefused, st.BytesRelayed, st.Circuits)
	if st.ReservationsRefused < 2 || st.CircuitsRefused < 1 || st.Reservations > 3 || st.MemoryBoundBytes != 3*2*2*2048 {
		t.Fatalf("the relay's counts: %+v", st)
	}
	if after-before > 64<<10 {
		t.Fatalf("the relay grew from %d KiB to %d KiB under load", before, after)
	}
}
