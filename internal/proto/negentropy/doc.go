// Package negentropy implements range-based set reconciliation, wire
// compatible with Negentropy protocol v1 (hoytech/negentropy,
// docs/negentropy-protocol-v1.md; the NIP-77 standard).
//
// Two parties each hold a set of items (a 64-bit timestamp and a 32-byte
// id, ordered by timestamp then id). The client sends fingerprints of
// ranges of its set; the server answers with its own for the ranges that
// differ, splitting them into 16 buckets, until ranges are small enough to
// exchange as id lists. The client learns which ids it has that the server
// lacks (have) and which the server has that it lacks (need), in O(log n)
// round trips and bytes proportional to the differences.
//
// The package is pure: a Session consumes and produces messages; the
// caller moves them. Fingerprints come from Storage, so a store that keeps
// range sums current on insert answers a round without scanning its set.
package negentropy
