// Package entry defines the signed, immutable unit of replication and its
// canonical encoding.
//
// An entry is the CBOR array
//
//	[content, signature]
//	content = [1, group, author, seq, hlc, kind, refs, body]
//
// encoded deterministically (RFC 8949 §4.2: shortest integer heads, definite
// lengths). The id is BLAKE3-256 of the content bytes exactly as they appear
// inside the entry, and the Ed25519 signature covers SignaturePrefix || id.
// Decoding accepts only the canonical encoding, so one entry has exactly one
// byte string and one id; any other spelling of the same fields is malformed.
//
// The package is pure: no I/O, no clock. docs/protocol.md is the normative
// description; testdata/vectors.json pins the bytes for other implementations.
package entry
