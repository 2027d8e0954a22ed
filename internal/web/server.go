package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"hearsay/internal/node"
)

// Config is what the server needs to know of its place.
type Config struct {
	// APIURL is the base URL the node's HTTP server listens on.
	APIURL string
	// Token is the home's API token: a bearer token for programs.
	Token string
	// Observe, if set, is told how long each request took, by route (the
	// path of the pattern) and method.
	Observe func(route, method string, took time.Duration)
}

// Server serves the REST API, the event streams and the web UI.
type Server struct {
	n    *node.Node
	nw   *node.Network // nil when the node does not serve a network
	join Joiner
	cfg  Config
	mux  *http.ServeMux
	feed *statusFeed // the event streams' group standing
	keys *onceByKey  // writes sent with an Idempotency-Key

	mu       sync.Mutex
	logins   map[string]time.Time // one-time login tokens, by expiry
	sessions map[string]bool      // browser sessions, by cookie value
}

// sessionCookie holds a browser's session; it is HttpOnly and SameSite
// strict, so no other site's page can use it.
const sessionCookie = "hearsay_session"

// loginValid is how long a login URL works.
const loginValid = 24 * time.Hour

// New makes the server of node n; nw is its network, nil when it has none.
func New(n *node.Node, nw *node.Network, cfg Config) *Server {
	s := &Server{n: n, nw: nw, cfg: cfg, mux: http.NewServeMux(), logins: map[string]time.Time{}, sessions: map[string]bool{}}
	s.feed, s.keys = newStatusFeed(s, statusEvery), newOnceByKey()
	if nw != nil {
		s.join = nw
	}
	for _, rt := range s.routes() {
		h := s.guard(rt)
		if cfg.Observe != nil {
			h = timed(rt.pattern, cfg.Observe, h)
		}
		s.mux.Handle(rt.method+" "+rt.pattern, h)
	}
	s.mux.HandleFunc("GET /login", s.login)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, CodeNotFound, "no such route: "+r.Method+" "+r.URL.Path)
	})
	s.mux.Handle("/", s.ui())
	return s
}

// Close stops what the server runs beside its requests (the event streams'
// status rounds) and waits for it, so that nothing reads the node's store
// once the caller closes it. The HTTP server must be closed first.
func (s *Server) Close() { s.feed.close() }

// ServeHTTP serves the API, /login and the UI.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// LoginURL mints a one-time login URL: opening it in a browser sets a
// session cookie, as Jupyter's token URL does.
func (s *Server) LoginURL() string {
	t := randomToken()
	now := time.Now()
	s.mu.Lock()
	for old, exp := range s.logins { // every `status` mints one: forget the expired
		if now.After(exp) {
			delete(s.logins, old)
		}
	}
	s.logins[t] = now.Add(loginValid)
	s.mu.Unlock()
	return s.cfg.APIURL + "/login?token=" + url.QueryEscape(t)
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// login trades a one-time token for a session cookie, then sends the
// browser to the UI.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("token")
	s.mu.Lock()
	exp, ok := s.logins[t]
	delete(s.logins, t)
	valid := ok && time.Now().Before(exp)
	var session string
	if valid {
		session = randomToken()
		s.sessions[session] = true
	}
	s.mu.Unlock()
	if !valid {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`<!doctype html><title>hearsay</title><p>This login link is used or expired. Run <code>hearsay status</code> for a new one.</p>`))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// timed tells observe how long each request took. A stream (events) is
// timed to its end, which says how long clients stayed.
func timed(route string, observe func(string, string, time.Duration), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		observe(route, r.Method, time.Since(start))
	})
}

// authorized admits the bearer token or a session cookie.
func (s *Server) authorized(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ") // the scheme is case-insensitive (RFC 9110 §11.1)
		return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(strings.TrimLeft(cred, " ")), []byte(s.cfg.Token)) == 1
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[c.Value]
}

// crossSite reports a request another site's page could have made: any
// with a foreign Origin (a browser names it on every cross-origin fetch,
// reads too), or a POST with a body type a plain HTML form can send. (A
// JSON or binary POST, and any PUT or DELETE, force a CORS preflight,
// which this server never answers.)
func crossSite(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return true
		}
	}
	if r.Method != http.MethodPost {
		return false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		return true
	}
	return false
}

// guard checks a route's request: authentication, cross-site writes, then
// runs it.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.public && !s.authorized(r) {
			w.Header().Set("Connection", "close") // a client without the token holds no connection
			fail(w, http.StatusUnauthorized, CodeUnauthorized, "missing or wrong bearer token (see <home>/api.token), or no session: open the login URL `hearsay status` prints")
			return
		}
		if crossSite(r) {
			fail(w, http.StatusForbidden, CodeForbidden, "cross-site request refused: a POST must carry a JSON body (an import, application/octet-stream), from this origin")
			return
		}
		if rt.raw != nil {
			rt.raw(w, r)
			return
		}
		key := r.Header.Get(IdempotencyKey)
		if key == "" || r.Method == http.MethodGet || r.Method == http.MethodHead {
			res, err := rt.json(r)
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, res.status, res.body)
			return
		}
		a := s.keys.run(r, key, func() answer {
			res, err := rt.json(r)
			if err != nil {
				status, body := errorOf(err)
				return encoded(status, body)
			}
			return encoded(res.status, res.body)
		})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		w.Write(a.body)
	})
}
