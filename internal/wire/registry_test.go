package wire

import (
	"errors"
	"reflect"
	"testing"
)

func TestRegistryRoundTrip(t *testing.T) {
	ask := RegistryAsk{Group: [32]byte{1, 2, 3}, Limit: 7}
	got, err := DecodeRegistryAsk(EncodeRegistryAsk(ask))
	if err != nil || got != ask {
		t.Fatalf("ask: %+v, %v", got, err)
	}
	ans := RegistryPeers{AskerRTTus: 1500, Peers: []RegistryPeer{
		{ID: []byte("peer-one"), Addrs: [][]byte{[]byte("addr-a"), []byte("addr-b")}, RTTus: 900},
		{ID: []byte("peer-two"), RTTus: 0},
	}}
	b, err := EncodeRegistryPeers(ans)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeRegistryPeers(b)
	if err != nil || !reflect.DeepEqual(back, ans) {
		t.Fatalf("answer: %+v, %v", back, err)
	}
}

// TestRegistryRefusesMalformed: every cut of a valid message, a limit out
// of range and trailing bytes are malformed.
func TestRegistryRefusesMalformed(t *testing.T) {
	b, _ := EncodeRegistryPeers(RegistryPeers{Peers: []RegistryPeer{{ID: []byte("p"), Addrs: [][]byte{[]byte("a")}, RTTus: 5}}})
	for i := range b {
		if _, err := DecodeRegistryPeers(b[:i]); i > 0 && !errors.Is(err, ErrMalformed) {
			t.Fatalf("answer cut at %d: %v", i, err)
		}
	}
	if _, err := DecodeRegistryPeers(append(b, 0)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}
	for _, ask := range [][]byte{EncodeRegistryAsk(RegistryAsk{Limit: 0}), EncodeRegistryAsk(RegistryAsk{Limit: MaxRegistryPeers + 1}),
		append(EncodeRegistryAsk(RegistryAsk{Limit: 1}), 0), make([]byte, 20)} {
		if _, err := DecodeRegistryAsk(ask); !errors.Is(err, ErrMalformed) {
			t.Fatalf("ask %x: %v", ask, err)
		}
	}
	if _, err := EncodeRegistryPeers(RegistryPeers{Peers: make([]RegistryPeer, MaxRegistryPeers+1)}); err == nil {
		t.Fatal("an answer over the limit encoded")
	}
}
