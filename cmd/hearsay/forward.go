package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"hearsay/internal/api"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/web"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// local commands never go through a running node.
var local = map[string]bool{"init": true, "id": true, "serve": true, "devnet": true, "sim": true, "help": true, "completion": true, "hearsay": true}

// errForwarded carries the exit code of a command a running node ran.
type errForwarded struct{ code int }

func (e errForwarded) Error() string { return fmt.Sprintf("exit %d", e.code) }

// forward runs the command in the node serving this home, if one does:
// while a node serves, it holds the store. It reports whether it did.
func (c *cli) forward(cmd *cobra.Command, args []string) (bool, error) {
	if c.shared != nil || local[cmd.Name()] {
		return false, nil
	}
	dir, err := c.homeDir()
	if err != nil {
		return false, nil
	}
	running, ok := home.ReadRunning(dir)
	if !ok {
		return false, nil
	}
	token, err := home.ReadToken(dir)
	if err != nil {
		return false, nil
	}
	line, stdin, outFile, err := c.forwardedLine(cmd, args)
	if err != nil {
		return true, err
	}
	if cmd.Name() == "export" && outFile == "" && isTerminal(c.stdout) {
		return true, errBinaryTerminal
	}
	client := &api.Client{URL: running.APIURL, Token: token}
	res, err := client.Exec(context.Background(), line, stdin)
	if errors.Is(err, api.ErrUnreachable) {
		return false, nil // a stale record: no node took the request, so it did not run
	}
	if errors.Is(err, api.ErrInDoubt) { // it may have run: running it here could run it twice
		return true, fmt.Errorf("%s: %w", cmd.CommandPath(), err)
	}
	if err != nil {
		return true, err
	}
	out := res.Stdout
	if outFile != "" && res.Code == 0 {
		if err := writeOutput(outFile, func(w io.Writer) error { _, err := w.Write(out); return err }); err != nil {
			return true, err
		}
		out = nil
	}
	c.stdout.Write(out)
	c.stderr.Write(res.Stderr)
	if res.Code != 0 {
		return true, errForwarded{res.Code}
	}
	return true, nil
}

// forwardedLine is the command line the node runs: the same command and
// flags, without --home (the node has its own), with file arguments turned
// into standard input and output.
func (c *cli) forwardedLine(cmd *cobra.Command, args []string) (line []string, stdin []byte, outFile string, err error) {
	line = strings.Fields(cmd.CommandPath())[1:]
	line = append(line, args...)
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch {
		case f.Name == "home":
		case f.Name == "output" && cmd.Name() == "export":
			if v := f.Value.String(); v != "-" {
				outFile = v // the CLI writes the file; the node prints the export
			}
		case f.Value.Type() == "stringArray":
			vals, _ := cmd.Flags().GetStringArray(f.Name)
			for _, v := range vals {
				line = append(line, "--"+f.Name, v)
			}
		default:
			line = append(line, "--"+f.Name+"="+f.Value.String())
		}
	})
	needsStdin := (cmd.Name() == "post" && len(args) > 1 && args[1] == "-") ||
		(cmd.Name() == "put" && len(args) > 2 && args[2] == "-")
	if cmd.Name() == "import" && len(args) == 1 && args[0] != "-" {
		if stdin, err = os.ReadFile(args[0]); err != nil {
			return nil, nil, "", err
		}
		line[len(line)-1] = "-"
	} else if needsStdin || cmd.Name() == "import" {
		if stdin, err = io.ReadAll(c.stdin); err != nil {
			return nil, nil, "", err
		}
	}
	return line, stdin, outFile, nil
}

// execShared runs a command line inside the serving process, on its node.
func execShared(n *node.Node, nw *node.Network, apiURL string, ws *web.Server) func(context.Context, []string, []byte) (int, []byte, []byte) {
	return func(_ context.Context, args []string, stdin []byte) (int, []byte, []byte) {
		var out, errOut bytes.Buffer
		c := &cli{stdin: bytes.NewReader(stdin), stdout: &out, stderr: &errOut, shared: n, network: nw, apiURL: apiURL, web: ws}
		if len(args) > 0 && local[args[0]] {
			return 1, nil, []byte("hearsay: " + args[0] + " does not run through a node's API\n")
		}
		return c.exec(args), out.Bytes(), errOut.Bytes()
	}
}
