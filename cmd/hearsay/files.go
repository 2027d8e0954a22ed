package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"hearsay/internal/api"
	"hearsay/internal/blob"
	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/web"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// fileCmd is `hearsay file`: large files, coded into shards held by peers.
// put and get stream through a serving node's API (the exec bridge moves
// whole bodies in memory); the other subcommands go the usual way.
func (c *cli) fileCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "file", Short: "Large files: erasure-coded into shards that peers hold (docs/files.md)"}
	cmd.AddCommand(c.filePutCmd(), c.fileGetCmd(), c.fileLsCmd(), c.fileStatusCmd())
	cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if cmd.Name() == "put" || cmd.Name() == "get" {
			return nil // they stream through the node's API themselves
		}
		return c.forwardHook(cmd, args)
	}
	return cmd
}

// nodeAPI is a client of the node serving this home, if one does (waiting
// for one that is starting, as forward does).
func (c *cli) nodeAPI() (*api.Client, bool) {
	if c.shared != nil {
		return nil, false
	}
	dir, err := c.homeDir()
	if err != nil {
		return nil, false
	}
	running, ok := nodeOf(dir)
	if !ok {
		return nil, false
	}
	token, err := home.ReadToken(dir)
	if err != nil {
		return nil, false
	}
	return &api.Client{URL: running.APIURL, Token: token}, true
}

// sized is a body that says its length, so the upload carries Content-Length.
type sized struct {
	io.Reader
	n int64
}

func (s sized) Size() int64 { return s.n }

// progress is a bar on stderr when it is a terminal, else nothing.
func (c *cli) progress(size int64, what string) io.Writer {
	if f, ok := c.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return progressbar.DefaultBytes(size, what)
	}
	return io.Discard
}

func (c *cli) filePutCmd() *cobra.Command {
	var k, m int
	cmd := &cobra.Command{
		Use:   "put GROUP PATH FILE",
		Short: "Store FILE as a new version of PATH: coded into k+m shards, placed on distinct peers; prints the version's id",
		Args:  exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("m") && !cmd.Flags().Changed("k") {
				return errors.New("--m needs --k")
			}
			if c.shared != nil {
				return errors.New("file put streams through the API (PUT /api/v1/groups/{group}/files/{path}), not the exec bridge")
			}
			f, err := os.Open(args[2])
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			if !st.Mode().IsRegular() {
				return fmt.Errorf("%s is not a regular file", args[2])
			}
			bar := c.progress(st.Size(), "put")
			body := io.TeeReader(f, bar)
			if client, ok := c.nodeAPI(); ok {
				q := url.Values{}
				if k > 0 {
					q.Set("k", strconv.Itoa(k))
					q.Set("m", strconv.Itoa(m))
				}
				resp, err := client.Stream(context.Background(), http.MethodPut, "/api/v1/groups/"+url.PathEscape(args[0])+"/files/"+escapePath(args[1])+"?"+q.Encode(),
					"application/octet-stream", sized{body, st.Size()})
				if errors.Is(err, api.ErrUnreachable) {
					return c.putHere(args, body, st.Size(), k, m) // no node took the request
				}
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				var res web.FilePut
				if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
					return fmt.Errorf("the node's answer: %w", err)
				}
				for _, p := range res.Problems {
					fmt.Fprintf(c.stderr, "hearsay: placing shards: %s\n", p)
				}
				fmt.Fprintf(c.stderr, "shards on %s\n", count(len(res.Holders), "distinct peer", "distinct peers"))
				return c.printIDString(res.ID)
			}
			return c.putHere(args, body, st.Size(), k, m)
		},
	}
	cmd.Flags().IntVar(&k, "k", 0, "data shards per stripe: any k of the k+m give the file back (default: from the peers there are)")
	cmd.Flags().IntVar(&m, "m", 0, "parity shards per stripe: how many holders may vanish")
	return cmd
}

// putHere puts a file on this node's own store, no node serving.
func (c *cli) putHere(args []string, body io.Reader, size int64, k, m int) error {
	return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
		file, id, err := n.FilePut(g.ID, args[1], body, size, node.PutOptions{K: k, M: m})
		if err != nil {
			return err
		}
		p := file.Params()
		fmt.Fprintf(c.stderr, "stored as %d+%d shards on this node alone; `hearsay serve` places them on peers\n", p.K, p.M)
		return c.printID(id, nil)
	})
}

// escapePath escapes each segment of a directory path for a URL.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func (c *cli) fileGetCmd() *cobra.Command {
	var out, version string
	cmd := &cobra.Command{
		Use:   "get GROUP PATH",
		Short: "Write a file's content to stdout or -o FILE, verified before a byte is written; an interrupted get to a file resumes",
		Args:  exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if c.shared != nil {
				return errors.New("file get streams through the API (GET /api/v1/groups/{group}/files/{path}), not the exec bridge")
			}
			if out == "" {
				if f, ok := c.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					return errors.New("refusing to write a file to a terminal: use -o FILE or a pipe")
				}
				return c.fileGet(args, version, c.stdout, 0, func(int64) {})
			}
			return c.fileGetTo(args, version, out)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE (FILE.part until it is whole)")
	cmd.Flags().StringVar(&version, "version", "", "a version's entry id or prefix (default: the latest)")
	return cmd
}

// fileGetTo gets into FILE.part, resuming from the whole segments a
// previous get left there, checks the content hash, then renames it.
func (c *cli) fileGetTo(args []string, version, out string) error {
	part := out + ".part"
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	// Only verified bytes were written, but the last ones may be torn by a
	// crash: resume at the last whole segment.
	from := st.Size() / blob.SegmentSize * blob.SegmentSize
	if err := f.Truncate(from); err != nil {
		return err
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return err
	}
	if err := c.fileGet(args, version, f, from, func(int64) {}); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return os.Rename(part, out)
}

// fileGet writes the content from offset from on to w.
func (c *cli) fileGet(args []string, version string, w io.Writer, from int64, _ func(int64)) error {
	if client, ok := c.nodeAPI(); ok {
		u := "/api/v1/groups/" + url.PathEscape(args[0]) + "/files/" + escapePath(args[1])
		if version != "" {
			u += "?version=" + url.QueryEscape(version)
		}
		if from > 0 {
			u += map[bool]string{true: "&", false: "?"}[version != ""] + "from=" + strconv.FormatInt(from, 10)
		}
		resp, err := client.Stream(context.Background(), http.MethodGet, u, "", nil)
		if err == nil {
			defer resp.Body.Close()
			bar := c.progress(resp.ContentLength, "get")
			_, err = io.Copy(io.MultiWriter(w, bar), resp.Body)
			return err
		}
		if !errors.Is(err, api.ErrUnreachable) {
			return err
		}
	}
	return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
		vid, err := versionOf(n, g, version)
		if err != nil {
			return err
		}
		_, r, err := node.Files{N: n}.Open(context.Background(), g.ID, args[1], vid)
		if err != nil {
			return err
		}
		defer r.Close()
		if _, err := r.Seek(from, io.SeekStart); err != nil {
			return err
		}
		bar := c.progress(r.Size()-from, "get")
		_, err = io.Copy(io.MultiWriter(w, bar), r)
		return err
	})
}

func (c *cli) fileLsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ls GROUP [PREFIX]",
		Short: "List the large files under a prefix: path, size, k+m, version",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 2 {
				prefix = args[1]
			}
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				files, err := n.Files(g.ID, prefix)
				if err != nil {
					return err
				}
				for _, f := range files {
					p := f.Params()
					if c.json {
						if err := c.emit(map[string]any{"path": f.Path, "size": f.M.Size, "k": p.K, "m": p.M,
							"version": f.Version.At.ID.String(), "content": f.M.ContentID().String()}); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(c.stdout, "%s\t%d\t%d+%d\t%s\n", f.Path, f.M.Size, p.K, p.M, f.Version.At.ID.Short())
				}
				return nil
			})
		},
	}
}

func (c *cli) fileStatusCmd() *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "status GROUP PATH",
		Short: "A file's health: per stripe, the shards live peers hold; healthy when every stripe has k+m on distinct peers",
		Args:  exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return c.withGroup(args[0], func(n *node.Node, g *group.Group) error {
				vid, err := versionOf(n, g, version)
				if err != nil {
					return err
				}
				f, err := n.FileOf(g.ID, args[1], vid)
				if err != nil {
					return err
				}
				src := node.Files{N: n, Net: c.network}.Source(g.ID)
				if err := n.LoadTable(context.Background(), f, src); err != nil {
					return err
				}
				st, err := node.Health(context.Background(), f, src)
				if err != nil {
					return err
				}
				if c.json {
					return c.emit(st)
				}
				fmt.Fprintf(c.stdout, "%s: %d bytes, %s of %d+%d shards\n", st.Path, st.Size, count(st.Stripes, "stripe", "stripes"), st.K, st.M)
				fmt.Fprintf(c.stdout, "shards live: %d of %d, on %s; stripes short: %d, unreadable: %d\n",
					st.ShardsLive, st.ShardsTotal, count(len(st.Holders), "distinct peer", "distinct peers"), st.StripesLow, st.StripesLost)
				state := "healthy"
				if !st.Healthy {
					state = "not healthy"
				}
				if st.Note != "" {
					state += ": " + st.Note
				}
				_, err = fmt.Fprintln(c.stdout, state)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "a version's entry id or prefix (default: the latest)")
	return cmd
}

// versionOf resolves --version (an entry id or prefix; empty: the latest).
func versionOf(n *node.Node, g *group.Group, version string) (entry.ID, error) {
	if version == "" {
		return entry.ID{}, nil
	}
	return n.ResolveEntry(g.ID, version)
}
