package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

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
					if f, ok := c.stdout.(*os.File); ok && isTerminal(f) {
						return fmt.Errorf("export is binary: give -o FILE or redirect standard output")
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

// exportFile writes the export beside path and renames it into place once
// synced, so a crash never leaves a half-written file under that name.
func exportFile(n *node.Node, gid [32]byte, path string) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	count, err := n.Export(gid, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return count, err
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
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
