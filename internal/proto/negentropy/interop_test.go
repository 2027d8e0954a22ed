package negentropy

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nbd-wtf/go-nostr"
	nostrneg "github.com/nbd-wtf/go-nostr/nip77/negentropy"
	"github.com/nbd-wtf/go-nostr/nip77/negentropy/storage/vector"
)

// theirs is go-nostr's implementation over the same items: the independent
// reference. It speaks hex and reports ids on channels.
func theirs(items []Item, limit int) *nostrneg.Negentropy {
	return nostrneg.New(theirVector(items), limit)
}

func theirVector(items []Item) *vector.Vector {
	v := vector.New()
	for _, it := range items {
		v.Insert(nostr.Timestamp(it.Timestamp), hex.EncodeToString(it.ID[:]))
	}
	v.Seal()
	return v
}

func fromHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexIDs(t testing.TB, ids []string) []ID {
	out := make([]ID, len(ids))
	for i, s := range ids {
		out[i] = ID(fromHex(t, s))
	}
	sortIDs(out)
	return out
}

func interopCases() (cases []struct {
	n    int
	diff float64
}) {
	for _, n := range []int{0, 1, 100, 10_000, 100_000} {
		for _, diff := range []float64{0, 0.01, 0.5, 1} {
			cases = append(cases, struct {
				n    int
				diff float64
			}{n, diff})
		}
	}
	return cases
}

// TestInteropOursAsClient reconciles our client against go-nostr's server.
func TestInteropOursAsClient(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range interopCases() {
		t.Run(fmt.Sprintf("n=%d/diff=%v", c.n, c.diff), func(t *testing.T) {
			ci, si, onlyC, onlyS := sets(rng, c.n, c.diff)
			client, _ := New(NewVector(ci), 0)
			server := theirs(si, 0)
			var have, need []ID
			for msg := client.Initiate(); msg != nil; {
				reply, err := server.Reconcile(hex.EncodeToString(msg))
				if err != nil {
					t.Fatalf("go-nostr server: %v", err)
				}
				if msg, have, need, err = client.Reconcile(fromHex(t, reply), have, need); err != nil {
					t.Fatalf("our client: %v", err)
				}
			}
			sortIDs(have)
			sortIDs(need)
			if !slices.Equal(have, onlyC) || !slices.Equal(need, onlyS) {
				t.Fatalf("have %d want %d, need %d want %d", len(have), len(onlyC), len(need), len(onlyS))
			}
		})
	}
}

// TestInteropOursAsServer reconciles go-nostr's client against our server.
func TestInteropOursAsServer(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range interopCases() {
		t.Run(fmt.Sprintf("n=%d/diff=%v", c.n, c.diff), func(t *testing.T) {
			ci, si, onlyC, onlyS := sets(rng, c.n, c.diff)
			client := theirs(ci, 0)
			server, _ := New(NewVector(si), 0)
			var haves, needs []string
			done := make(chan struct{})
			go func() {
				for id := range client.Haves {
					haves = append(haves, id)
				}
				done <- struct{}{}
			}()
			go func() {
				for id := range client.HaveNots {
					needs = append(needs, id)
				}
				done <- struct{}{}
			}()
			msg := client.Start()
			for msg != "" {
				reply, _, _, err := server.Reconcile(fromHex(t, msg), nil, nil)
				if err != nil {
					t.Fatalf("our server: %v", err)
				}
				if msg, err = client.Reconcile(hex.EncodeToString(reply)); err != nil {
					t.Fatalf("go-nostr client: %v", err)
				}
			}
			<-done
			<-done
			if have, need := hexIDs(t, haves), hexIDs(t, needs); !slices.Equal(have, onlyC) || !slices.Equal(need, onlyS) {
				t.Fatalf("have %d want %d, need %d want %d", len(have), len(onlyC), len(need), len(onlyS))
			}
		})
	}
}

// TestInteropSameBytes checks that our first message is byte for byte the
// one go-nostr sends for the same set.
func TestInteropSameBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{0, 5, 31, 32, 1000, 50_000} {
		items, _, _, _ := sets(rng, n, 0)
		ours, _ := New(NewVector(slices.Clone(items)), 0)
		if got, want := hex.EncodeToString(ours.Initiate()), theirs(items, 0).Start(); got != want {
			t.Fatalf("n=%d: first messages differ\nours   %.120s\ntheirs %.120s", n, got, want)
		}
	}
}

// TestInteropFrameLimited runs both directions with 4 KiB frames, where
// servers cut id lists short and cover the rest with a fingerprint.
func TestInteropFrameLimited(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, diff := range []float64{0.05, 1} {
		ci, si, onlyC, onlyS := sets(rng, 10_000, diff)
		// ours as client
		client, _ := New(NewVector(slices.Clone(ci)), MinFrame)
		server := theirs(si, MinFrame)
		var have, need []ID
		for msg := client.Initiate(); msg != nil; {
			reply, err := server.Reconcile(hex.EncodeToString(msg))
			if err != nil {
				t.Fatal(err)
			}
			if msg, have, need, err = client.Reconcile(fromHex(t, reply), have, need); err != nil {
				t.Fatal(err)
			}
		}
		sortIDs(have)
		sortIDs(need)
		if !slices.Equal(have, onlyC) || !slices.Equal(need, onlyS) {
			t.Fatalf("ours as client, diff %v: have %d want %d, need %d want %d", diff, len(have), len(onlyC), len(need), len(onlyS))
		}
		// ours as server
		their := theirs(ci, MinFrame)
		ours, _ := New(NewVector(slices.Clone(si)), MinFrame)
		var haves, needs []string
		done := make(chan struct{}, 2)
		go func() {
			for id := range their.Haves {
				haves = append(haves, id)
			}
			done <- struct{}{}
		}()
		go func() {
			for id := range their.HaveNots {
				needs = append(needs, id)
			}
			done <- struct{}{}
		}()
		for msg := their.Start(); msg != ""; {
			reply, _, _, err := ours.Reconcile(fromHex(t, msg), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(reply) > MinFrame {
				t.Fatalf("our answer of %d bytes exceeds the frame", len(reply))
			}
			if msg, err = their.Reconcile(hex.EncodeToString(reply)); err != nil {
				t.Fatal(err)
			}
		}
		<-done
		<-done
		// NB: go-nostr's client may report an id twice here: when its own
		// message is cut short, its closing fingerprint spans ranges it had
		// settled, so they are listed again. Its results are sets.
		gotHave, gotNeed := slices.Compact(hexIDs(t, haves)), slices.Compact(hexIDs(t, needs))
		if !slices.Equal(gotHave, onlyC) || !slices.Equal(gotNeed, onlyS) {
			t.Fatalf("ours as server, diff %v: have %d want %d, need %d want %d", diff, len(gotHave), len(onlyC), len(gotNeed), len(onlyS))
		}
	}
}

// TestFrameLimitHeadroomMatchesReference: an empty client and a server of n
// items under 4 KiB frames. Our server cuts its id list where go-nostr's
// does, so its answer is the same bytes and takes as many rounds: one round
// for up to 122 items (the 123rd id no longer fits beside frameSlack).
func TestFrameLimitHeadroomMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	rounds := func(server func(msg []byte) []byte) int {
		client, _ := New(NewVector(nil), MinFrame)
		n := 0
		var have, need []ID
		for msg := client.Initiate(); msg != nil; n++ {
			reply := server(msg)
			if len(reply) > MinFrame {
				t.Fatalf("answer of %d bytes, frame limit %d", len(reply), MinFrame)
			}
			var err error
			if msg, have, need, err = client.Reconcile(reply, have, need); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	for n := 100; n <= 140; n++ {
		_, items, _, _ := sets(rng, n, 0)
		ours, _ := New(NewVector(slices.Clone(items)), MinFrame)
		ref := theirs(items, MinFrame)
		first := true
		got := rounds(func(msg []byte) []byte {
			out, _, _, err := ours.Reconcile(msg, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if first {
				first = false
				want, err := theirs(items, MinFrame).Reconcile(hex.EncodeToString(msg))
				if err != nil {
					t.Fatal(err)
				}
				if hex.EncodeToString(out) != want {
					t.Fatalf("n=%d: first answers differ (%d bytes, go-nostr's %d)", n, len(out), len(want)/2)
				}
			}
			return out
		})
		want := rounds(func(msg []byte) []byte {
			out, err := ref.Reconcile(hex.EncodeToString(msg))
			if err != nil {
				t.Fatal(err)
			}
			return fromHex(t, out)
		})
		if got != want {
			t.Errorf("n=%d: %d rounds, go-nostr's server %d", n, got, want)
		}
		if n <= 122 && got != 1 {
			t.Errorf("n=%d: %d rounds, want 1", n, got)
		}
	}
}
