// Package nntp is a newsreader's gateway to a node: an NNTP server after
// RFC 3977, with AUTHINFO USER/PASS (RFC 4643) whose password is the node's
// API token, that shows every group the node replicates as a newsgroup and
// posts as the node's author (docs/nntp.md).
package nntp

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/node"
	"hearsay/internal/store"
)

// Limits bound what clients can hold of the server.
type Limits struct {
	Conns        int           // connections served at once; more are told 400 and closed
	AuthTimeout  time.Duration // idle time allowed before AUTHINFO succeeds
	IdleTimeout  time.Duration // idle time allowed after (RFC 3977 §3.1 asks for at least 3 minutes)
	WriteTimeout time.Duration // for each response
	MaxArticle   int           // octets of a posted article
	AuthTries    int           // failed AUTHINFO PASS before the connection is closed
}

// DefaultLimits are the limits of `hearsay serve --nntp`.
var DefaultLimits = Limits{Conns: 64, AuthTimeout: 30 * time.Second, IdleTimeout: 10 * time.Minute,
	WriteTimeout: time.Minute, MaxArticle: 1 << 20, AuthTries: 3}

// maxLine bounds a command line; RFC 3977 §3.1 allows 512 octets, and some
// clients send longer wildmats.
const maxLine = 4096

// Server serves newsreaders on one listener.
type Server struct {
	n      *node.Node
	token  string
	limits Limits
	ln     net.Listener
	now    func() time.Time

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Serve starts serving on ln; Close stops it.
func Serve(ln net.Listener, n *node.Node, token string, limits Limits) *Server {
	s := &Server{n: n, token: token, limits: limits, ln: ln, now: time.Now, conns: map[net.Conn]struct{}{}}
	s.wg.Go(s.accept)
	return s
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting, closes every connection and waits for their
// goroutines.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	for {
		c, err := s.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of descriptors, say: wait, as net/http does, rather than stop
			// serving for good.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		full := len(s.conns) >= s.limits.Conns
		if !full {
			s.conns[c] = struct{}{}
		}
		s.mu.Unlock()
		if full {
			c.SetWriteDeadline(time.Now().Add(time.Second))
			io.WriteString(c, "400 too many connections, try again later\r\n")
			c.Close()
			continue
		}
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			sess := &session{s: s, c: c, r: bufio.NewReaderSize(c, maxLine), w: bufio.NewWriter(c), cache: map[entry.ID]store.Article{}}
			sess.run()
		})
	}
}

// session is one client's connection: who it is and where it stands.
type session struct {
	s      *Server
	c      net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	authed bool
	user   string // after AUTHINFO USER
	fails  int

	arts      *node.Articles // the selected group, nil before GROUP
	groupName string
	cur       uint64 // the current article number, 0 for none
	cache     map[entry.ID]store.Article
}

// errQuit ends a session after its last response.
var errQuit = errors.New("quit")

func (ss *session) run() {
	ss.reply(200, "hearsay NNTP gateway ready (AUTHINFO USER/PASS required; the password is the node's API token)")
	if ss.flush() != nil {
		return
	}
	for {
		idle := ss.s.limits.IdleTimeout
		if !ss.authed {
			idle = ss.s.limits.AuthTimeout
		}
		ss.c.SetReadDeadline(time.Now().Add(idle))
		line, err := ss.readLine()
		if errors.Is(err, bufio.ErrBufferFull) {
			ss.reply(501, "command line too long")
			ss.flush()
			return
		}
		if err != nil {
			return
		}
		err = ss.command(line)
		if ferr := ss.flush(); err != nil || ferr != nil {
			return
		}
	}
}

// readLine reads one CRLF- (or LF-) terminated line without its end.
func (ss *session) readLine() (string, error) {
	b, err := ss.r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func (ss *session) reply(code int, text string) {
	fmt.Fprintf(ss.w, "%d %s\r\n", code, oneLine(text))
}

// lines writes a multi-line block's lines, dot-stuffed, and its end.
func (ss *session) lines(ls ...string) {
	for _, l := range ls {
		ss.line(l)
	}
	ss.end()
}

func (ss *session) line(l string) {
	if strings.HasPrefix(l, ".") {
		ss.w.WriteByte('.')
	}
	ss.w.WriteString(l)
	ss.w.WriteString("\r\n")
}

func (ss *session) end() { ss.w.WriteString(".\r\n") }

func (ss *session) flush() error {
	ss.c.SetWriteDeadline(time.Now().Add(ss.s.limits.WriteTimeout))
	return ss.w.Flush()
}

// oneLine keeps an error's text on its response line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

func (ss *session) checkPassword(pass string) bool {
	return subtle.ConstantTimeCompare([]byte(pass), []byte(ss.s.token)) == 1
}
