package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"hearsay/internal/group"
	"hearsay/internal/node"

	"github.com/spf13/cobra"
)

func (c *cli) exportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export GROUP",
		Short: "Write every entry of a group to an export file (RFC 8742 CBOR sequence)",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if c.shared != nil && out != "" && out != "-" {
				return errNoPaths
			}
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				if out == "" || out == "-" {
					if isTerminal(c.stdout) {
						return errBinaryTerminal
					}
					done, err := n.Export(g.ID, c.stdout)
					if err == nil {
						fmt.Fprintf(c.stderr, "exported %s of %s\n", count(done, "entry", "entries"), g.Name)
					}
					return err
				}
				done, err := exportFile(n, g.ID, out)
				if err == nil {
					fmt.Fprintf(c.stderr, "exported %s of %s to %s\n", count(done, "entry", "entries"), g.Name, out)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default standard output)")
	return cmd
}

// errNoPaths refuses a file path in a command run through the node's API:
// the node would read or write it with its own rights, wherever the
// client named. Files move as request and response bodies instead.
var errNoPaths = errors.New("through the node's API, export writes standard output and import reads standard input: the node opens no paths for a client")

// exportFile writes the export of group gid to path (see writeOutput).
func exportFile(n *node.Node, gid [32]byte, path string) (count int, err error) {
	err = writeOutput(path, func(w io.Writer) error {
		count, err = n.Export(gid, w)
		return err
	})
	return count, err
}

func (c *cli) importCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Verify and store the entries of an export file (- reads standard input)",
		Long: "Every entry is verified as if it came from the network. Valid entries are stored even when\n" +
			"others are refused; each refusal is reported with its byte offset, and the exit code is 1.",
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if c.shared != nil && args[0] != "-" {
				return errNoPaths
			}
			var r io.Reader = c.stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			return c.withNode(func(n *node.Node) error {
				res, err := n.Import(r)
				if err != nil {
					return fmt.Errorf("import %s: %w", args[0], err)
				}
				return c.reportImport(args[0], res)
			})
		},
	}
}

// reportImport prints what an import of file did: each refusal on
// stderr, the sums on stdout; the error sets the exit code.
func (c *cli) reportImport(file string, res *node.ImportResult) error {
	for _, rf := range res.Refused {
		id := ""
		if rf.ID != "" {
			id = " " + rf.ID[:min(12, len(rf.ID))]
		}
		fmt.Fprintf(c.stderr, "hearsay: import: refused entry%s at byte %d: %s\n", id, rf.Offset, rf.Error)
	}
	var err error
	if c.json {
		err = c.emit(res)
	} else {
		_, err = fmt.Fprintf(c.stdout, "read %s: %d stored, %d already held, %d refused\n",
			count(res.Read, "entry", "entries"), res.Stored, res.Duplicates, len(res.Refused))
	}
	switch {
	case err != nil:
		return err
	case res.Corrupt != "":
		return fmt.Errorf("import %s: %s; nothing after it was read", file, res.Corrupt)
	case len(res.Refused) > 0:
		return errReported{fmt.Errorf("%d refused", len(res.Refused))}
	}
	return nil
}
