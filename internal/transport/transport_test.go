package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestEchoOverTCPAndQUIC starts two real hosts on loopback and moves bytes
// over a stream on each transport; the peer id is the node key's.
func TestEchoOverTCPAndQUIC(t *testing.T) {
	for _, listen := range []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"} {
		pub, key, _ := ed25519.GenerateKey(rand.Reader)
		server, err := NewHost(key, []string{listen}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer server.Close()
		if id, _ := PeerID(pub); id != server.ID() {
			t.Fatalf("peer id %s is not the node key's %s", server.ID(), id)
		}
		Handle(server, "/test/echo/1", func(s network.Stream) error {
			_, err := io.Copy(s, io.LimitReader(s, 5))
			return err
		})
		_, ckey, _ := ed25519.GenerateKey(rand.Reader)
		client, err := NewHost(ckey, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := Dial(ctx, client, Addrs(server)[0])
		if err != nil {
			t.Fatalf("%s: %v", listen, err)
		}
		s, err := Open(ctx, client, p, "/test/echo/1")
		if err != nil {
			t.Fatal(err)
		}
		s.Write([]byte("hello"))
		got, _ := io.ReadAll(s)
		if string(got) != "hello" {
			t.Fatalf("%s: echoed %q", listen, got)
		}
	}
	if _, err := Dial(context.Background(), nil, "/ip4/127.0.0.1/tcp/1"); err == nil {
		t.Fatal("an address without /p2p/ was accepted")
	}
}

// TestGaterRefusesBothWays: a host whose allow refuses a peer neither
// accepts its connections nor dials it, on TCP and QUIC.
func TestGaterRefusesBothWays(t *testing.T) {
	for _, listen := range []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"} {
		_, bkey, _ := ed25519.GenerateKey(rand.Reader)
		banned, err := NewHost(bkey, []string{listen}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer banned.Close()
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		h, err := NewHost(key, []string{listen}, nil, func(p peer.ID) bool { return p != banned.ID() })
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := Dial(ctx, banned, Addrs(h)[0]); err == nil {
			// The dialer may finish its handshake before the other side
			// refuses; the connection must not last.
			time.Sleep(200 * time.Millisecond)
			if h.Network().Connectedness(banned.ID()) == network.Connected {
				t.Fatalf("%s: the banned peer's connection was accepted", listen)
			}
		}
		if _, err := Dial(ctx, h, Addrs(banned)[0]); err == nil {
			t.Fatalf("%s: the banned peer was dialed", listen)
		}
	}
}
