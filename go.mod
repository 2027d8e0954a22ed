module hearsay

go 1.26

require (
	github.com/fxamacker/cbor/v2 v2.9.6
	lukechampine.com/blake3 v1.4.1
)

require (
	github.com/klauspost/cpuid/v2 v2.0.9 // indirect
	github.com/x448/float16 v0.8.4 // indirect
)
