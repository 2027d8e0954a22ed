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
// The package is pure: State.Step takes one Input (a local broadcast, a
// message, a neighbour up or down from the overlay, a fired timer) and
// returns Outputs (sends, deliveries, timers). Payloads are read through the
// Store interface, so the node serves grafts from its store and the
// simulator from a map.
package plumtree
