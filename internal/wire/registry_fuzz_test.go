package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecodeRegistry: a registry's ask and answer come from any peer. The
// decoders never panic, and what they accept encodes to bytes that decode
// to the same message (not always to the same bytes: a uvarint may come in
// a longer form than the one hearsay writes, which is harmless in a
// message nobody signs).
func FuzzDecodeRegistry(f *testing.F) {
	f.Add(EncodeRegistryAsk(RegistryAsk{Group: [32]byte{1}, Limit: 7}))
	ans, _ := EncodeRegistryPeers(RegistryPeers{AskerRTTus: 1500, Peers: []RegistryPeer{
		{ID: []byte("peer-a"), Addrs: [][]byte{[]byte("/ip4/127.0.0.1/tcp/1"), []byte("x")}, RTTus: 9},
		{ID: []byte("b"), RTTus: 1},
	}})
	f.Add(ans)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if ask, err := DecodeRegistryAsk(b); err == nil {
			back := EncodeRegistryAsk(ask)
			if again, err := DecodeRegistryAsk(back); err != nil || again != ask {
				t.Fatalf("ask %x decoded to %+v, which encodes to %x", b, ask, back)
			}
		}
		peers, err := DecodeRegistryPeers(b)
		if err != nil {
			return
		}
		back, err := EncodeRegistryPeers(peers)
		if err != nil {
			t.Fatalf("answer %x decoded to %+v, which does not encode: %v", b, peers, err)
		}
		if !bytes.Equal(back, b) {
			again, _ := DecodeRegistryPeers(back)
			if !reflect.DeepEqual(again, peers) {
				t.Fatalf("answer %x decoded to %+v, which encodes to %x", b, peers, back)
			}
		}
	})
}
