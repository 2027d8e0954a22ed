// Package view folds a group's entries into what users see: threads, sets,
// a versioned directory, membership, retractions and hides, and the authors
// admins hide.
//
// Every view is a deterministic function of the set of entries a replica
// holds, whatever order they arrived in (DESIGN R5, R6). Two rules make that
// cheap:
//
//   - Apply only writes. Each entry adds a few keys to ordered indexes (the
//     children of a post, the ops on a set element, the versions of a path),
//     so applying one entry costs O(log n) and never reads earlier state.
//   - Winners are chosen when read. Last writer wins per set element and per
//     path by (hlc, id), counting only entries that are valid (their author
//     could write at their hlc, by the membership fold) and not withdrawn. A
//     late membership change or retraction therefore takes effect everywhere
//     without rewriting anything.
//
// The package is pure: it reads through Reader and writes through the func
// Apply is given; the store supplies both.
package view
