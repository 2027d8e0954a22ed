package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// TestEchoOverTCPAndQUIC starts two real hosts on loopback and moves bytes
// over a stream on each transport; the peer id is the node key's.
func TestEchoOverTCPAndQUIC(t *testing.T) {
	for _, listen := range []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"} {
		pub, key, _ := ed25519.GenerateKey(rand.Reader)
		server, err := NewHost(key, []string{listen}, nil)
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
		client, err := NewHost(ckey, nil, nil)
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
