package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
)

var gossipSamples = []Gossip{
	{Group: entry.ID{1}, Overlay: hyparview.Join{}},
	{Group: entry.ID{2}, Overlay: hyparview.ForwardJoin{Peer: "alice", TTL: 6},
		Addrs: map[hyparview.PeerID][][]byte{"alice": {[]byte("/ip4/127.0.0.1/tcp/1"), []byte("/ip4/127.0.0.1/udp/1/quic-v1")}}},
	{Group: entry.ID{3}, Overlay: hyparview.Neighbor{High: true}},
	{Group: entry.ID{3}, Overlay: hyparview.NeighborReply{Accept: false}},
	{Group: entry.ID{4}, Overlay: hyparview.Disconnect{}},
	{Group: entry.ID{4}, Overlay: hyparview.Disconnect{Suggest: "d"}, Addrs: map[hyparview.PeerID][][]byte{"d": {[]byte("z")}}},
	{Group: entry.ID{4}, Overlay: hyparview.Optimize{RTT: 12345 * time.Microsecond}},
	{Group: entry.ID{4}, Overlay: hyparview.OptimizeReply{Accept: true, Dropped: "e"}, Addrs: map[hyparview.PeerID][][]byte{"e": nil}},
	{Group: entry.ID{4}, Overlay: hyparview.OptimizeReply{}},
	{Group: entry.ID{5}, Overlay: hyparview.Shuffle{Origin: "o", TTL: 3, Peers: []hyparview.PeerID{"a", "b"}},
		Addrs: map[hyparview.PeerID][][]byte{"o": {[]byte("x")}, "a": nil, "b": {[]byte("y")}}},
	{Group: entry.ID{5}, Overlay: hyparview.ShuffleReply{Peers: []hyparview.PeerID{"c"}}, Addrs: map[hyparview.PeerID][][]byte{"c": nil}},
	{Group: entry.ID{5}, Overlay: hyparview.ShuffleReply{}},
	{Group: entry.ID{6}, Broadcast: plumtree.Gossip{ID: plumtree.MessageID{9}, Round: 3, Payload: bytes.Repeat([]byte{7}, 300)}},
	{Group: entry.ID{6}, Broadcast: plumtree.IHave{Announced: []plumtree.Announcement{{ID: plumtree.MessageID{1}, Round: 0}, {ID: plumtree.MessageID{2}, Round: 70}}}},
	{Group: entry.ID{6}, Broadcast: plumtree.Graft{ID: plumtree.MessageID{3}, Round: 2}},
	{Group: entry.ID{6}, Broadcast: plumtree.Prune{}},
	{Group: entry.ID{7}, Holds: []GroupDigest{DigestOf(entry.ID{8}), DigestOf(entry.ID{9})}},
}

func TestGossipRoundTrip(t *testing.T) {
	for _, want := range gossipSamples {
		b, err := EncodeGossip(want)
		if err != nil {
			t.Fatalf("%#v: %v", want, err)
		}
		got, err := DecodeGossip(b)
		if err != nil {
			t.Fatalf("%#v: %v", want, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	}
}

// A peer named twice carries its addresses once; the decoder keeps the
// first mention's.
func TestGossipPeerNamedTwice(t *testing.T) {
	m := Gossip{Group: entry.ID{1}, Overlay: hyparview.Shuffle{Origin: "o", TTL: 1, Peers: []hyparview.PeerID{"o", "o"}},
		Addrs: map[hyparview.PeerID][][]byte{"o": {[]byte("a")}}}
	b, err := EncodeGossip(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeGossip(b)
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("got %#v, %v", got, err)
	}
}

func TestGossipRefusals(t *testing.T) {
	g := make([]byte, 32)
	msg := func(tag byte, body ...byte) []byte { return append(append([]byte{tag}, g...), body...) }
	for name, b := range map[string][]byte{
		"empty":            {},
		"no group":         {tagJoin, 1, 2},
		"unknown type":     msg(0x7f),
		"join with body":   msg(tagJoin, 0),
		"bad bool":         msg(tagNeighbor, 2),
		"no bool":          msg(tagNeighborReply),
		"empty peer id":    msg(tagForwardJoin, 0, 0, 1),
		"long peer id":     msg(tagForwardJoin, append([]byte{65}, make([]byte, 65)...)...),
		"too many addrs":   msg(tagForwardJoin, 1, 'p', 9),
		"ttl too high":     msg(tagForwardJoin, 1, 'p', 0, 0x80, 0x02),
		"too many peers":   msg(tagShuffleReply, 65),
		"peers overclaim":  msg(tagShuffleReply, 2, 1, 'a', 0),
		"empty payload":    append(msg(tagGossip, make([]byte, 32)...), 0, 0),
		"payload overruns": append(msg(tagGossip, make([]byte, 32)...), 0, 5, 1),
		"short graft":      msg(tagGraft, 1, 2, 3),
		"ihave overclaims": msg(tagIHave, 3),
		"ihave too many":   msg(tagIHave, 0x81, 0x20),
		"prune trailing":   msg(tagPrune, 0),
		"no suggest flag":  msg(tagDisconnect),
		"rtt too long":     msg(tagOptimize, 0x81, 0x8e, 0xce, 0x1c), // 60,000,001 µs,
		"no dropped flag":  msg(tagOptimizeReply, 1),
		"no groups held":   msg(tagHolds, 0),
		"holds overclaims": msg(tagHolds, append([]byte{2}, make([]byte, 33)...)...),
		"holds too many":   msg(tagHolds, 0x81, 0x08),
	} {
		if _, err := DecodeGossip(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, m := range map[string]Gossip{
		"neither":       {Group: entry.ID{1}},
		"both":          {Group: entry.ID{1}, Overlay: hyparview.Join{}, Broadcast: plumtree.Prune{}},
		"empty payload": {Group: entry.ID{1}, Broadcast: plumtree.Gossip{}},
		"too many":      {Group: entry.ID{1}, Overlay: hyparview.ShuffleReply{Peers: make([]hyparview.PeerID, 65)}},
		"holds, join":   {Group: entry.ID{1}, Overlay: hyparview.Join{}, Holds: []GroupDigest{{}}},
		"holds nothing": {Group: entry.ID{1}, Holds: []GroupDigest{}},
		"holds 1025":    {Group: entry.ID{1}, Holds: make([]GroupDigest, MaxHolds+1)},
	} {
		if _, err := EncodeGossip(m); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

// FuzzDecodeGossip: no input panics the decoder, and whatever decodes
// survives an encode and decode unchanged. The seeds are the samples and
// the corpus in testdata/fuzz/FuzzDecodeGossip.
func FuzzDecodeGossip(f *testing.F) {
	for _, m := range gossipSamples {
		b, err := EncodeGossip(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeGossip(b)
		if err != nil {
			return
		}
		enc, err := EncodeGossip(m)
		if err != nil {
			t.Fatalf("%#v decodes but does not encode: %v", m, err)
		}
		again, err := DecodeGossip(enc)
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("%#v does not survive a round trip: %#v, %v", m, again, err)
		}
	})
}
