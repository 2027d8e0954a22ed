package main

import (
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
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				if out == "" || out == "-" {
					if isTerminal(c.stdout) {
						return errBinaryTerminal
					}
					count, err := n.Export(g.ID, c.stdout)
					if err == nil {
						fmt.Fprintf(c.stderr, "exported %d entries of %s\n", count, g.Name)
					}
					return err
				}
				count, err := exportFile(n, g.ID, out)
				if err == nil {
					fmt.Fprintf(c.stderr, "exported %d entries of %s to %s\n", count, g.Name, out)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default standard output)")
	return cmd
}

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
				for _, rf := range res.Refused {
					id := ""
					if rf.ID != "" {
						id = " " + rf.ID[:12]
					}
					fmt.Fprintf(c.stderr, "hearsay: import: refused entry%s at byte %d: %s\n", id, rf.Offset, rf.Error)
				}
				if c.json {
					err = c.emit(res)
				} else {
					_, err = fmt.Fprintf(c.stdout, "read %d entries: %d stored, %d already held, %d refused\n",
						res.Read, res.Stored, res.Duplicates, len(res.Refused))
				}
				if err != nil {
					return err
				}
				switch {
				case res.Corrupt != "":
					return fmt.Errorf("import %s: %s; nothing after it was read", args[0], res.Corrupt)
				case len(res.Refused) > 0:
					return errReported{fmt.Errorf("%d refused", len(res.Refused))}
				}
				return nil
			})
		},
	}
}
