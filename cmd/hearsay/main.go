// Command hearsay is the command-line interface to a hearsay node: it works
// on the home's local store (and, once a node runs, through its API).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/store"
	"hearsay/internal/web"

	"github.com/spf13/cobra"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run executes one command line and returns the process exit code: 0 on
// success, 1 on any error, with the error as one line on stderr.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	return c.exec(args)
}

// exec runs a command line on c. When a node serves the home, commands go
// to it (see forward).
func (c *cli) exec(args []string) int {
	root := c.root()
	root.SetArgs(args)
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.PersistentPreRunE = c.forwardHook
	err := root.Execute()
	var fwd errForwarded
	var quiet errReported
	switch {
	case err == nil:
		return 0
	case errors.As(err, &fwd):
		return fwd.code
	case !errors.As(err, &quiet):
		fmt.Fprintf(c.stderr, "hearsay: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	return 1
}

// forwardHook sends the command to the node serving the home, if one
// does; errForwarded then carries its exit code.
func (c *cli) forwardHook(cmd *cobra.Command, args []string) error {
	if done, err := c.forward(cmd, args); done || err != nil {
		if err == nil {
			err = errForwarded{0}
		}
		return err
	}
	return nil
}

// exactArgs refuses a wrong number of arguments with the command's usage.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("usage: %s", cmd.UseLine())
		}
		return nil
	}
}

// errReported is an error the command already explained on stderr.
type errReported struct{ error }

type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	homeFlag       string
	json           bool

	// Set when the command runs inside `serve`, on its open node.
	shared  *node.Node
	network *node.Network
	apiURL  string
	web     *web.Server
}

func (c *cli) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "hearsay",
		Short: "hearsay: signed, replicated logs and files, peer to peer",
		Long: "hearsay keeps groups: signed, append-only logs that every member replicates.\n" +
			"Commands work on the local store of the home directory (--home, $HEARSAY_HOME, ~/.hearsay).",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().StringVar(&c.homeFlag, "home", "", "home directory (default $"+home.Env+" or ~/.hearsay)")
	root.PersistentFlags().BoolVar(&c.json, "json", false, "machine-readable output: one JSON object, or JSON lines for lists")
	root.AddCommand(c.initCmd(), c.idCmd(), c.serveCmd(), c.groupCmd(), c.postCmd(), c.logCmd(), c.threadCmd(),
		c.setCmd(), c.dirCmd(), c.exportCmd(), c.importCmd(), c.statusCmd(), c.peersCmd(), c.nearbyCmd(), c.devnetCmd(), c.simCmd(), c.fileCmd(), c.storageCmd(),
		c.profileCmd(), c.petnameCmd(), c.completionCmd())
	root.AddCommand(c.withdrawCmds()...)
	root.AddCommand(c.hideAuthorCmds()...)
	root.AddCommand(c.banCmds()...)
	return root
}

func (c *cli) homeDir() (string, error) { return home.Resolve(c.homeFlag) }

// lockWait is how long a command waits for another that holds the store:
// commands are short, so two at once run one after the other instead of
// one failing. A node holds the store for good, so it is not waited for.
const lockWait = time.Second

// openNode opens the home and its store; the caller closes the node.
func (c *cli) openNode() (*node.Node, error) {
	dir, err := c.homeDir()
	if err != nil {
		return nil, err
	}
	h, err := home.Open(dir)
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(lockWait); ; time.Sleep(20 * time.Millisecond) {
		n, err := node.Open(h, store.Options{Logf: c.logf}, nil)
		if _, serving := home.ReadRunning(dir); !errors.Is(err, store.ErrLocked) || serving || home.Starting(dir) || time.Now().After(deadline) {
			return n, err
		}
	}
}

// withNode runs fn on an opened node and closes it, or on the serving
// process's node.
func (c *cli) withNode(fn func(*node.Node) error) error {
	if c.shared != nil {
		return fn(c.shared)
	}
	n, err := c.openNode()
	if err != nil {
		return err
	}
	return errors.Join(fn(n), n.Close())
}

// withGroup runs fn on an opened node and the group arg names.
func (c *cli) withGroup(arg string, fn func(*node.Node, *group.Group) error) error {
	return c.withNode(func(n *node.Node) error {
		g, err := n.ResolveGroup(arg)
		if err != nil {
			return err
		}
		return fn(n, g)
	})
}

// printList prints items as JSON lines with --json (asJSON, when not nil,
// makes each item's object), else one human line each.
func printList[T any](c *cli, items []T, asJSON func(T) any, human func(T) string) error {
	for _, it := range items {
		var err error
		switch {
		case c.json && asJSON != nil:
			err = c.emit(asJSON(it))
		case c.json:
			err = c.emit(it)
		default:
			_, err = fmt.Fprintln(c.stdout, human(it))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// emit prints v as one JSON line.
func (c *cli) emit(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "%s\n", b)
	return err
}
