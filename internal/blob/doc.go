// Package blob is the format of large files: how content is cut into
// segments, each segment Reed–Solomon coded into k data and m parity shards,
// and how content, shards and the shard table are addressed and verified.
// It is pure: it reads and writes byte slices and io.Readers, never the
// disk, the network or the clock.
//
// A file of Size bytes is cut into segments of SegmentSize bytes (the last
// one shorter). In a private group each segment is sealed first
// (XChaCha20-Poly1305 under a key of the file's own that the sealed manifest
// carries), so holders outside the group store ciphertext only. A stored
// segment is split into k data shards of equal length (zero-padded), and m
// parity shards are computed from them (klauspost/reedsolomon): any k of
// the k+m shards of a stripe give the segment back.
//
// Every stored object — a shard, or the shard table that lists every shard
// id of a file in stripe order — is addressed by its ObjectID: BLAKE3 over
// its length and the BLAKE3 hashes of its BlockSize-byte blocks. A reader
// that has an object's block hashes checks them against the id once and
// then each block as it streams in; a holder proves it still holds an
// object by answering with one block and the block hashes. The manifest, a
// signed directory version in the group log, names the content hash, the
// size, the coding parameters and the table's id: since it names exact
// hashes, no holder can serve a stale or altered version.
//
// docs/protocol.md §12 specifies these formats byte for byte.
package blob
