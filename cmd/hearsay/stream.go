package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"hearsay/internal/api"
	"hearsay/internal/node"
	"hearsay/internal/web"
)

// Imports and exports go to the serving node as streams, through its REST
// routes, rather than inside an exec request, which holds the whole file
// in memory on both sides (and bounds its size).

// importThrough imports file (- for standard input) through the node.
func (c *cli) importThrough(client *api.Client, file string) error {
	var body io.Reader = c.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		body = f
	}
	resp, err := client.Stream(context.Background(), http.MethodPost, "/api/v1/import", "application/octet-stream", body)
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	defer resp.Body.Close()
	var res node.ImportResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return fmt.Errorf("import %s: the node's answer: %w", file, err)
	}
	return c.reportImport(file, &res)
}

// exportThrough exports the group arg names through the node, to path
// (standard output when empty).
func (c *cli) exportThrough(client *api.Client, arg, path string) error {
	if path == "" && isTerminal(c.stdout) {
		return errBinaryTerminal
	}
	resp, err := client.Stream(context.Background(), http.MethodGet, "/api/v1/groups/"+url.PathEscape(arg), "", nil)
	if err != nil {
		return err
	}
	var g node.GroupInfo
	err = json.NewDecoder(resp.Body).Decode(&g)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("the node's answer: %w", err)
	}
	if resp, err = client.Stream(context.Background(), http.MethodGet, "/api/v1/groups/"+g.ID+"/export", "", nil); err != nil {
		return err
	}
	defer resp.Body.Close()
	copyAll := func(w io.Writer) error {
		if _, err := io.Copy(w, resp.Body); err != nil {
			return fmt.Errorf("export %s: %w", g.Name, err)
		}
		if resp.Trailer.Get(web.EntriesTrailer) == "" { // the node's export failed part way
			return fmt.Errorf("export %s: the node's export broke off", g.Name)
		}
		return nil
	}
	if path == "" {
		err = copyAll(c.stdout)
	} else {
		err = writeOutput(path, copyAll)
	}
	if err != nil {
		return err
	}
	to := ""
	if path != "" {
		to = " to " + path
	}
	sent := resp.Trailer.Get(web.EntriesTrailer)
	what := "entries"
	if sent == "1" {
		what = "entry"
	}
	fmt.Fprintf(c.stderr, "exported %s %s of %s%s\n", sent, what, g.Name, to)
	return nil
}
