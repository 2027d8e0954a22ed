// Package plumtree broadcasts a group's new entries over its overlay, after
// Leitão, Pereira and Rodrigues, "Epidemic Broadcast Trees" (SRDS 2007).
//
// Each node splits its neighbours into eager peers, to which it pushes full
// messages, and lazy peers, to which it only announces ids (IHave, batched).
// A node that receives a message twice prunes the second sender to lazy, so
// the eager links settle into a spanning tree and each node receives each
// message about once. A node that hears of an id it never receives asks an
// announcer for it (Graft), which also makes that link eager: the tree
// repairs itself. Anti-entropy stays the backstop for anything missed.
//
// Beyond the paper, whose pruning leaves one message's tree and so flaps
// when messages from several sources are in flight at once (each cuts the
// same cycle elsewhere): a duplicate prunes only if its message is a
// pruning token, read off the id so that every node agrees, with about one
// token among the messages in flight; a link a Graft made eager is pruned
// by any duplicate until it has delivered a first copy; and a graft asks an
// announcer that is already an eager peer, if any (prune.go). An author
// also announces its messages to its eager peers, so that a lost first
// push is grafted rather than left to anti-entropy. And a node already in
// a tree takes a new neighbour as lazy: the overlay changes its links
// (repairs, and trades for faster ones), and each new eager link was a
// cycle for the next messages to cut. The tree is made of neighbours only:
// a peer that is not one (the overlay's two ends disagree after a lost
// message) has its first copies delivered and pushed on and its IHave
// heard, but its Graft goes unanswered and no tree state is kept about it.
// A Graft is a call on the announcer's promise: one that does not send the
// message within PromiseTimeout is reported (Broken, promise.go), for the
// driver to charge, as GossipSub's P7 charges broken IHave promises.
//
// The package is pure: State.Step takes one Input (a local broadcast, a
// message, a neighbour up or down from the overlay, a fired timer) and
// returns Outputs (sends, deliveries, timers, broken promises). Payloads are read through the
// Store interface, so the node serves grafts from its store and the
// simulator from a map.
package plumtree
