// Package topic composes one group's cores — the overlay (proto/hyparview),
// the broadcast (proto/plumtree) — and the node's peer policy into one pure
// state machine: New, then Step(now, input) → outputs, as iroh-gossip's
// proto/topic.rs composes its two cores. The node's gossip layer
// (internal/gossip) and the simulator (internal/sim) drive this one core,
// so what the simulator measures is the policy that ships.
//
// The overlay's neighbour changes feed the broadcast synchronously, within
// the step that made them. The policy is the part of the runtime that is
// protocol rather than I/O:
//
//   - which peer anti-entropy reconciles with (Round → Reconcile): an active
//     neighbour, one time in four a passive peer (which reaches across
//     islands the active views may form after failures), else a member this
//     node has synced with, else a peer the driver offers;
//   - meeting after a sync (SyncDone): a peer that replicates the group is a
//     way into the overlay when it has no neighbour, and one in neither view
//     from which anti-entropy brought entries the broadcast had not is taken
//     as a neighbour (how two overlays that formed apart grow together);
//   - the isolated fallback: when the overlay reports itself alone or on an
//     island, the core meets a member it synced with that is not a
//     neighbour, or asks the driver for contacts (FindContacts → Found: the
//     DHT in the node, a random live member in the simulator), once at a
//     time and at most once per Config.IsolatedEvery;
//   - validate before forwarding: a pushed entry the broadcast has not seen
//     goes to admission first (Admit → Admitted), and only an admitted one
//     reaches the broadcast core, to be forwarded;
//   - charges: what the core sees a peer do wrong on the broadcast (a
//     broken IHave promise, floods of duplicates or of future-dated
//     pushes, flood.go) it reports as a Charge of the peer's score part
//     (charge.go), for the driver's score table;
//   - demotions: a peer below the gossip threshold (Demote) is not chosen
//     from the passive view, by the overlay or by anti-entropy;
//   - bans: a banned peer leaves both views and the broadcast's peer sets,
//     is sent nothing, is heard from not at all, and is never chosen to
//     reconcile with or met, until its ban expires or is lifted.
//
// A core does no I/O, starts no goroutine, takes no lock and reads no
// clock: now is an argument and the random source is injected
// (internal/layers_test.go enforces it).
//
// # Applying outputs
//
// Step returns its outputs in the order the driver must apply them, as
// raft's Ready does: they are in causal order (a NeighborUp precedes the
// broadcast's first Send to that peer; the Sends to one peer are in the
// order the protocol wrote them, and a driver keeps that order on the
// wire). A driver applies each output in turn:
//
//   - Send: queue the message for the peer, in order. A peer that cannot be
//     reached is reported with a PeerDown input.
//   - NeighborUp, NeighborDown: bookkeeping only (a driver that tracks
//     connections per neighbour, as the simulator does).
//   - Admit: run full admission of the pushed entry, then feed Admitted back,
//     in the order the Admits came (a batch may be admitted together). An
//     Admit that is never answered only loses the push; anti-entropy brings
//     the entry.
//   - Deliver: the broadcast received an (admitted) entry for the first time.
//   - SetTimer: feed TimerFired back once After has passed. Timers are never
//     cancelled; a late one is harmless.
//   - Measure: feed Measured back with the round trip, or a PeerDown.
//   - Reconcile: run a sync session with the peer, then feed SyncDone or
//     SyncFailed.
//   - FindContacts: look for members of the group outside the overlay and
//     feed Found back, even when none is found.
//   - Charge: count the fault in the peer's score and act on the verdict
//     (a Ban for a graylisted or banned peer, as for any other charge).
//
// An input an output provokes (a Send that finds its peer gone) may be
// stepped at once, before the rest of the outputs are applied: the rest stay
// valid and are applied after.
package topic
