//go:build race

package main

// raceBuilt: the tests run race-built, which makes some of them too slow
// for the suite; those run without it in ./test.sh -long.
const raceBuilt = true
