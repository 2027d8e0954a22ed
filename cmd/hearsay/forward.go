package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"hearsay/internal/api"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/web"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// local commands never go through a running node.
var local = map[string]bool{"init": true, "id": true, "serve": true, "devnet": true, "sim": true, "help": true, "completion": true, "hearsay": true}

// topName is the name of the root's subcommand that cmd is or is under:
// "completion" for `hearsay completion bash`.
func topName(cmd *cobra.Command) string {
	for cmd.HasParent() && cmd.Parent().HasParent() {
		cmd = cmd.Parent()
	}
	return cmd.Name()
}

// errForwarded carries the exit code of a command a running node ran.
type errForwarded struct{ code int }

func (e errForwarded) Error() string { return fmt.Sprintf("exit %d", e.code) }

// forward runs the command in the node serving this home, if one does:
// while a node serves, it holds the store. It reports whether it did.
func (c *cli) forward(cmd *cobra.Command, args []string) (bool, error) {
	if c.shared != nil || local[topName(cmd)] {
		return false, nil
	}
	dir, err := c.homeDir()
	if err != nil {
		return false, nil
	}
	running, ok := nodeOf(dir)
	if !ok {
		return false, nil
	}
	token, err := home.ReadToken(dir)
	if err != nil {
		return false, nil
	}
	client := &api.Client{URL: running.APIURL, Token: token}
	if err := c.streamThrough(cmd, args, client); err != errNotStreamed {
		if errors.Is(err, api.ErrUnreachable) {
			return false, nil // no node took the request: run it here
		}
		return true, err
	}
	line, stdin, err := c.forwardedLine(cmd, args)
	if err != nil {
		return true, err
	}
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
	if cmd.CommandPath() == "hearsay dir get" && res.Code == 0 && !c.json {
		res.Stdout = terminalText(res.Stdout, isTerminal(c.stdout)) // the node's stdout was no terminal
	}
	c.stdout.Write(res.Stdout)
	c.stderr.Write(res.Stderr)
	if res.Code != 0 {
		return true, errForwarded{res.Code}
	}
	return true, nil
}

// nodeOf returns the record of the node serving dir, if there is one.
// While a serve is starting on dir, it waits for it (home.StartingFor at
// most): the command then goes through the new node, instead of taking the
// store the node is waiting for.
func nodeOf(dir string) (*home.Running, bool) {
	for deadline := time.Now().Add(home.StartingFor); home.Starting(dir) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	return home.ReadRunning(dir)
}

// errNotStreamed: the command is not an import or an export.
var errNotStreamed = errors.New("not streamed")

// streamThrough runs an import or an export through the node's streaming
// routes, and any other command not at all (errNotStreamed).
func (c *cli) streamThrough(cmd *cobra.Command, args []string, client *api.Client) error {
	switch cmd.CommandPath() {
	case "hearsay import":
		return c.importThrough(client, args[0])
	case "hearsay export":
		out, _ := cmd.Flags().GetString("output")
		if out == "-" {
			out = ""
		}
		return c.exportThrough(client, args[0], out)
	}
	return errNotStreamed
}

// forwardedLine is the command line the node runs: the same command and
// flags, without --home (the node has its own), with standard input sent
// along where the command reads it.
func (c *cli) forwardedLine(cmd *cobra.Command, args []string) (line []string, stdin []byte, err error) {
	line = strings.Fields(cmd.CommandPath())[1:]
	line = append(line, args...)
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch {
		case f.Name == "home":
		case f.Value.Type() == "stringArray":
			vals, _ := cmd.Flags().GetStringArray(f.Name)
			for _, v := range vals {
				line = append(line, "--"+f.Name, v)
			}
		default:
			line = append(line, "--"+f.Name+"="+f.Value.String())
		}
	})
	if (cmd.Name() == "post" && len(args) > 1 && args[1] == "-") ||
		(cmd.Name() == "put" && len(args) > 2 && args[2] == "-") {
		if stdin, err = c.valueArg("-"); err != nil {
			return nil, nil, err
		}
	}
	return line, stdin, nil
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
