package node

import (
	"context"
	"slices"
)

// FileStatus is a file's health as `file status` shows it.
type FileStatus struct {
	Path        string   `json:"path"`
	Version     string   `json:"version"`
	Size        int64    `json:"size"`
	Content     string   `json:"content"` // BLAKE3-256 of the content, hex
	K           int      `json:"k"`
	M           int      `json:"m"`
	Segment     int      `json:"segment"`
	Sealed      bool     `json:"sealed"`
	Stripes     int      `json:"stripes"`
	ShardsTotal int      `json:"shards_total"`
	ShardsLive  int      `json:"shards_live"`  // shards at least one live peer holds
	StripesLow  int      `json:"stripes_low"`  // stripes with fewer than k+m shards on distinct live peers
	StripesLost int      `json:"stripes_lost"` // stripes with fewer than k: their content is not to be had now
	MinLive     int      `json:"min_live"`     // the fewest shards on distinct live peers of any stripe
	Holders     []string `json:"holders"`      // distinct live peers holding a shard
	Healthy     bool     `json:"healthy"`      // every stripe has all k+m shards on distinct live peers
	Readable    bool     `json:"readable"`     // every stripe has at least k
	Note        string   `json:"note,omitempty"`
}

// Health reports, from what src can locate, how safe f (its table loaded) is.
func Health(ctx context.Context, f *File, src Source) (*FileStatus, error) {
	p := f.Params()
	st := &FileStatus{Path: f.Path, Version: f.Version.At.ID.String(), Size: int64(f.M.Size), Content: f.M.ContentID().String(),
		K: p.K, M: p.M, Segment: p.SegmentSize, Sealed: p.Sealed, Stripes: f.M.Stripes(), ShardsTotal: f.M.Stripes() * p.N()}
	where, err := src.Locate(ctx, append(slices.Clone(f.Table), f.M.TableID()))
	if err != nil {
		return nil, err
	}
	holders := map[string]bool{}
	st.MinLive = p.N()
	for i := range st.Stripes {
		distinct := map[string]bool{} // one shard per peer counts towards the stripe's safety
		live := 0
		for j := range p.N() {
			hs := where[f.Table.Shard(p, i, j)]
			if len(hs) > 0 {
				st.ShardsLive++
				live++
			}
			for _, h := range hs {
				holders[h] = true
			}
			for _, h := range hs {
				if !distinct[h] {
					distinct[h] = true
					break
				}
			}
		}
		if len(distinct) < p.N() {
			st.StripesLow++
		}
		st.MinLive = min(st.MinLive, len(distinct))
		if live < p.K {
			st.StripesLost++
		}
	}
	for h := range holders {
		st.Holders = append(st.Holders, h)
	}
	slices.Sort(st.Holders)
	st.Healthy = st.StripesLow == 0 && len(where[f.M.TableID()]) > 0
	st.Readable = st.StripesLost == 0 && len(where[f.M.TableID()]) > 0
	switch {
	case len(where[f.M.TableID()]) == 0:
		st.Note = "no live peer holds the shard table"
	case !st.Readable:
		st.Note = "some stripes have fewer than k shards on live peers: not readable now"
	case len(st.Holders) < p.N():
		st.Note = "fewer live holders than k+m: shards share peers, so the file is less safe than its parameters say"
	case !st.Healthy:
		st.Note = "some stripes are short of shards: repair restores them once more than the repair slack is missing"
	}
	return st, nil
}
