package transport

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"syscall"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

// TestOnePortOneNode: a second host cannot listen on a port another holds,
// on TCP (where libp2p would share it with SO_REUSEPORT) as on QUIC, even
// when its other addresses are free.
func TestOnePortOneNode(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	first, err := NewHost(key, []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	for _, a := range first.Network().ListenAddresses() {
		if _, err := a.ValueForProtocol(ma.P_CIRCUIT); err == nil {
			continue // the relay transport's, which holds no port
		}
		held := a.String()
		free := "/ip4/127.0.0.1/udp/0/quic-v1"
		if _, err := a.ValueForProtocol(ma.P_UDP); err == nil {
			free = "/ip4/127.0.0.1/tcp/0"
		}
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		second, err := NewHost(key, []string{free, held}, nil, nil)
		if err == nil {
			second.Close()
			t.Fatalf("a second host listens on %s", held)
		}
		le, ok := errors.AsType[*ListenError](err)
		if !ok || le.Addr != held || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("listening on %s again: %v", held, err)
		}
	}
}
