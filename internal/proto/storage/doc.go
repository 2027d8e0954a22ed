// Package storage is the storage market without money, as a pure core: where
// a file's shards go (rendezvous hashing over the peers willing to hold
// them), whom a node will hold shards for (a ledger of what each peer holds
// for it and it for each peer, with a free allowance), when and what to
// audit, what a failed audit costs, and which one of the members that see a
// stripe short of shards repairs it. It does no I/O and reads no clock:
// `now` and the random source are passed in, so the node and the simulator
// run the same decisions.
//
// Reciprocity follows the seed requirement "you have to help store the data
// if you want access to it": a peer may store here up to a free allowance
// plus Ratio times what it verifiably (by audits) holds for this node.
// Rendezvous hashing (Thaler and Ravishankar, 1998) makes placement a pure
// function of the object and the candidate set, so every member computes
// the same holders and a holder that vanishes moves only its own shards.
package storage
