// Package group holds the rules of a group: its genesis (name, owner,
// policies, quotas), the schemas of the entry bodies it understands, and the
// admission check every entry passes before a replica stores it.
//
// Everything here is a pure function of the entry and of state the caller
// reads from its store, so every replica that holds the same entries makes
// the same decisions.
package group
