package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

const heldProtocol = "/test/held/1"

// TestStreamsPerPeerAreBounded: a peer that opens streams to a protocol and
// holds them gets no more than the protocol's limit served at once, while
// another peer is still served; closing the held streams frees the slots.
func TestStreamsPerPeerAreBounded(t *testing.T) {
	limits := DefaultLimits
	limits.StreamsPerPeerInbound = map[protocol.ID]int{heldProtocol: 3}
	server := newLimitedHost(t, &limits, []string{"/ip4/127.0.0.1/tcp/0"})
	Handle(server, heldProtocol, func(s network.Stream) error {
		var b [1]byte
		if _, err := io.ReadFull(s, b[:]); err != nil {
			return err
		}
		if _, err := s.Write(b[:]); err != nil {
			return err
		}
		_, err := io.Copy(io.Discard, s) // held until the peer goes
		return err
	})
	flooder := newLimitedHost(t, nil, nil)
	honest := newLimitedHost(t, nil, nil)
	var held []network.Stream
	served := 0
	for range 8 {
		s, ok := openHeld(t, flooder, server)
		if ok {
			served++
			held = append(held, s)
		}
	}
	if served != 3 {
		t.Fatalf("one peer was served %d held streams at once, want the limit of 3", served)
	}
	if _, ok := openHeld(t, honest, server); !ok {
		t.Fatal("another peer was refused while the flooder held its streams")
	}
	for _, s := range held {
		s.Reset()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := openHeld(t, flooder, server); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the flooder's slots were not freed after it closed its streams")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openHeld opens a held stream from c to s and reports whether s served it
// (echoed its byte).
func openHeld(t *testing.T, c, s host.Host) (network.Stream, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c.Network().Connectedness(s.ID()) != network.Connected {
		if err := c.Connect(ctx, peer.AddrInfo{ID: s.ID(), Addrs: s.Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := c.NewStream(ctx, s.ID(), heldProtocol)
	if err != nil {
		return nil, false
	}
	st.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := st.Write([]byte{7}); err != nil {
		st.Reset()
		return nil, false
	}
	var b [1]byte
	if _, err := io.ReadFull(st, b[:]); err != nil {
		st.Reset()
		return nil, false
	}
	return st, true
}

func newLimitedHost(t *testing.T, limits *Limits, listen []string) host.Host {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	h, _, err := New(key, Options{Listen: listen, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
