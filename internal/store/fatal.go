package store

import (
	"errors"
	"fmt"
)

// errBroken refuses writes once one failed: Pebble's commit pipeline is
// unusable after a failed WAL write or sync, and what the disk holds is
// known only after reopening.
var errBroken = errors.New("an earlier write failed; reopen the store")

// fatal is what Pebble's Fatalf raises (see logger): durably turns it
// back into an error.
type fatal struct{ msg string }

// durably runs a write to the database. Pebble treats a failed WAL write
// or fsync as fatal, calling Fatalf in the committing goroutine; rather
// than letting that end the process, durably returns it as an error and
// refuses every later write until the store is reopened.
func (s *Store) durably(write func() error) (err error) {
	if s.broken.Load() {
		return errBroken
	}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			s.broken.Store(true)
			err = fmt.Errorf("%s; reopen the store", f.msg)
		}
	}()
	return write()
}
