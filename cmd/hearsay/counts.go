package main

import "fmt"

// integer is what count and noun count with.
type integer interface{ ~int | ~int64 | ~uint64 }

// count is n and the noun for n: "1 entry", "2 entries", "0 entries".
func count[N integer](n N, one, many string) string {
	return fmt.Sprintf("%d %s", n, noun(n, one, many))
}

// noun is one for n == 1, else many.
func noun[N integer](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
