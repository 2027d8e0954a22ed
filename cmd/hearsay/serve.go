package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"hearsay/internal/api"
	"hearsay/internal/dav"
	"hearsay/internal/entry"
	"hearsay/internal/home"
	"hearsay/internal/metrics"
	"hearsay/internal/nntp"
	"hearsay/internal/node"
	"hearsay/internal/store"
	"hearsay/internal/web"

	"github.com/spf13/cobra"
)

// syncEvery is the anti-entropy period.
const syncEvery = 30 * time.Second

func (c *cli) serveCmd() *cobra.Command {
	var listen, bootstrap []string
	var apiAddr, nntpAddr string
	var shareLinks bool
	var reach *reachFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a node: listen for peers and keep its groups in sync (initializes the home on first run)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, _, err := c.initHome()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("listen") {
				listen = h.Config.Listen
			}
			if !cmd.Flags().Changed("api") {
				apiAddr = h.Config.API
			}
			netCfg, err := reach.config(cmd, listen)
			if err != nil {
				return err
			}
			netCfg.UnsharedLinks = !shareLinks
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			r, err := c.startNode(ctx, h, netCfg, apiAddr, append(bootstrap, h.Config.Bootstrap...))
			if err != nil {
				return err
			}
			if nntpAddr != "" {
				if err := r.startNNTP(nntpAddr); err != nil {
					stop()
					return errors.Join(err, r.close())
				}
			}
			fmt.Fprintf(c.stdout, "hearsay node %s (author %s)\n", r.nw.Host.ID(), h.Author)
			for _, a := range r.nw.Addrs() {
				fmt.Fprintf(c.stdout, "listening on %s\n", a)
			}
			fmt.Fprintf(c.stdout, "api %s\n", r.apiURL)
			fmt.Fprintf(c.stdout, "folders %s/dav/ (WebDAV; any user name, the password is in %s)\n", r.apiURL, filepath.Join(h.Dir, "api.token"))
			fmt.Fprintf(c.stdout, "metrics %s/metrics (bearer token or password as above)\n", r.apiURL)
			if r.nntp != nil {
				fmt.Fprintf(c.stdout, "nntp %s (newsreaders: AUTHINFO with any user name, the password as above)\n", r.nntp.Addr())
			}
			fmt.Fprintf(c.stdout, "web UI: open %s\n", r.web.LoginURL())
			<-ctx.Done()
			fmt.Fprintln(c.stderr, "stopping")
			return r.close()
		},
	}
	cmd.Flags().StringArrayVar(&listen, "listen", nil, "multiaddress to listen on (repeatable; default from config.json)")
	cmd.Flags().StringArrayVar(&bootstrap, "bootstrap", nil, "peer to sync with, a multiaddress ending in /p2p/<peer id>, or a /dnsaddr/ name listing such (repeatable)")
	cmd.Flags().StringVar(&apiAddr, "api", "", "HOST:PORT of the local API (default from config.json; :0 picks a port)")
	cmd.Flags().StringVar(&nntpAddr, "nntp", "", "HOST:PORT to serve newsreaders on, NNTP (off by default; the password is the API token; docs/nntp.md)")
	cmd.Flags().BoolVar(&shareLinks, "share-links", true, "prefer, as a group's neighbours, peers already linked to for another group (=false: each group alone, to measure what sharing saves)")
	reach = addReachFlags(cmd)
	return cmd
}

// runningNode is a node serving a home: its store, libp2p host, API and
// runtime loop.
type runningNode struct {
	h       *home.Home
	n       *node.Node
	nw      *node.Network
	apiURL  string
	web     *web.Server
	stopAPI func()
	nntp    *nntp.Server // nil without --nntp
	done    chan struct{}
}

// listenError is a listen address the node's host could not listen on
// (transport.ListenError, which this package does not import).
type listenError interface {
	error
	ListenAddr() string
}

// startNode opens the home's store, starts its host, API and runtime loop;
// the loop runs until ctx ends, and close then releases everything.
func (c *cli) startNode(ctx context.Context, h *home.Home, netCfg node.NetConfig, apiAddr string, bootstrap []string) (*runningNode, error) {
	// Until the node serves (or fails to), commands on the home wait for it
	// rather than take the store it waits for; node.json then says which.
	if err := h.SetStarting(); err != nil {
		return nil, err
	}
	defer h.ClearStarting()
	n, err := c.openForServe(h)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("a hearsay node already serves %s (or another command holds its store)", h.Dir)
	}
	if err != nil {
		return nil, err
	}
	r := &runningNode{h: h, n: n, done: make(chan struct{})}
	if r.nw, err = n.StartNetworkWith(netCfg); err != nil {
		n.Close()
		if le, ok := errors.AsType[listenError](err); ok {
			return nil, fmt.Errorf("--listen %s: %w", le.ListenAddr(), errors.Unwrap(le))
		}
		return nil, err
	}
	if r.stopAPI, r.apiURL, r.web, err = c.startAPI(h, n, r.nw, apiAddr); err != nil {
		r.nw.Close()
		n.Close()
		return nil, err
	}
	if err := r.nw.Remember(append(bootstrap, h.Peers()...)); err != nil {
		r.stopAPI()
		r.nw.Close()
		n.Close()
		return nil, err
	}
	go func() {
		defer close(r.done)
		r.nw.Run(ctx, bootstrap, syncEvery, func(p, g string, res node.SyncResult, err error) {
			if err != nil && g == "" {
				fmt.Fprintf(c.stderr, "%s: peer %s: %v\n", h.Dir, p, err)
			} else if err != nil {
				fmt.Fprintf(c.stderr, "%s: sync %s with %s: %v\n", h.Dir, g, p, err)
			} else if res.Received+res.Sent > 0 {
				fmt.Fprintf(c.stderr, "%s: sync %s with %s: %d received, %d sent\n", h.Dir, g, p, res.Received, res.Sent)
			}
		})
	}()
	return r, nil
}

// storeWait is how long a starting node waits for the commands that hold
// its store: each holds it briefly, and new ones wait for the node instead
// (home.Starting). It is shorter than home.StartingFor.
const storeWait = 10 * time.Second

// openForServe opens the home's store for a node, waiting for commands
// that hold it, but not for a live node that serves the home already.
func (c *cli) openForServe(h *home.Home) (*node.Node, error) {
	for deadline := time.Now().Add(storeWait); ; time.Sleep(20 * time.Millisecond) {
		n, err := node.Open(h, store.Options{Logf: c.logf}, nil)
		if !errors.Is(err, store.ErrLocked) || time.Now().After(deadline) {
			return n, err
		}
		if r, ok := home.ReadRunning(h.Dir); ok && home.Alive(r.PID) {
			return nil, err
		}
	}
}

// close waits for the runtime loop (its context must have ended), then
// remembers the peers and releases the API, the host and the store.
func (r *runningNode) close() error {
	<-r.done
	err := r.h.SavePeers(r.nw.KnownAddrs())
	if r.nntp != nil {
		r.nntp.Close()
	}
	r.stopAPI()
	return errors.Join(err, r.nw.Close(), r.n.Close())
}

// startAPI serves the local API, the web UI and its REST API on one
// listener, and records the node in the home, so that CLI commands on this
// home reach it. stop undoes both.
func (c *cli) startAPI(h *home.Home, n *node.Node, nw *node.Network, addr string) (stop func(), url string, ws *web.Server, err error) {
	token, err := h.Token()
	if err != nil {
		return nil, "", nil, err
	}
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ln, err := net.Listen("tcp", addr)
	if op, ok := errors.AsType[*net.OpError](err); ok {
		err = op.Err // "bind: address already in use", without the address again
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("--api %s: %w", addr, err)
	}
	url = "http://" + ln.Addr().String()
	m := metrics.New(n, nw)
	ws = web.New(n, nw, web.Config{APIURL: url, Token: token, Observe: m.Observe})
	srv := api.Serve(ln, api.Handler(api.Config{Token: token, Exec: execShared(n, nw, url, ws),
		DAV: dav.Handler(n, node.Files{N: n, Net: nw}, "/dav"), Metrics: m.Handler(), Observe: m.Observe, Web: ws}), api.DefaultLimits)
	if err := h.SetRunning(home.Running{PID: os.Getpid(), APIURL: url, PeerID: nw.Host.ID().String()}); err != nil {
		srv.Close()
		return nil, "", nil, err
	}
	return func() {
		h.ClearRunning()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx) // waits for requests to end, but not for event streams, which never do
		srv.Close()
		ws.Close()
	}, url, ws, nil
}

// startNNTP serves newsreaders on addr, behind the API token.
func (r *runningNode) startNNTP(addr string) error {
	token, err := r.h.Token()
	if err != nil {
		return err
	}
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ln, err := net.Listen("tcp", addr)
	if op, ok := errors.AsType[*net.OpError](err); ok {
		err = op.Err
	}
	if err != nil {
		return fmt.Errorf("--nntp %s: %w", addr, err)
	}
	r.nntp = nntp.Serve(ln, r.n, token, nntp.DefaultLimits)
	return nil
}

func (c *cli) logf(format string, args ...any) { fmt.Fprintf(c.stderr, format+"\n", args...) }

func (c *cli) groupJoinCmd() *cobra.Command {
	var peers []string
	cmd := &cobra.Command{
		Use:   "join GROUP [--peer MULTIADDR...]",
		Short: "Fetch a group and its whole history from a member, verifying every entry",
		Long: "GROUP is the full group id. Each --peer is a multiaddress ending in /p2p/<peer id>; the first that answers is used.\n" +
			"Without --peer, members are found through the DHT, reached by way of the bootstrap peers (config.json) and the remembered ones.",
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			g, err := entry.ParseID(args[0])
			if err != nil {
				return fmt.Errorf("group: %w", err)
			}
			return c.withNode(func(n *node.Node) error {
				nw := c.network // inside a serving node, its own host
				if nw == nil {
					var err error
					if nw, err = n.StartNetwork(nil); err != nil {
						return err
					}
					defer nw.Close()
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				before, _ := n.Store.Count(g) // 0 for a group not held yet
				res, err := c.join(ctx, nw, n.Home, g, peers)
				after, cerr := n.Store.Count(g)
				if err != nil {
					if cerr == nil && after > before {
						return fmt.Errorf("%w (%s stored before that: join again to resume)", err, count(after-before, "entry", "entries"))
					}
					return err
				}
				if cerr != nil {
					return cerr
				}
				grp, err := n.Store.Group(g)
				if err != nil {
					return err
				}
				// Counted in the store: in a serving node, gossip may bring
				// some of the group's entries alongside the join's sessions.
				fmt.Fprintf(c.stderr, "joined %q: %s added, %d refused; it holds %d\n", grp.Name, count(after-before, "entry", "entries"), res.Refused, after)
				return c.printID(g, nil)
			})
		},
	}
	cmd.Flags().StringArrayVar(&peers, "peer", nil, "a peer that has the group (repeatable)")
	return cmd
}

// join joins group g through peers or, with none given, the DHT, which a
// one-off host reaches through the bootstrap and remembered peers.
func (c *cli) join(ctx context.Context, nw *node.Network, h *home.Home, g entry.ID, peers []string) (node.SyncResult, error) {
	if len(peers) == 0 && c.network == nil {
		known := append(h.Config.Bootstrap, h.Peers()...)
		if nw.Reach(ctx, known) == 0 {
			return node.SyncResult{}, fmt.Errorf("no --peer given, and none of the %d bootstrap and remembered peers answered to find members through: pass --peer, or add a bootstrap peer to config.json", len(known))
		}
	}
	return nw.Join(ctx, g, peers)
}
