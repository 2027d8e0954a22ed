package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// The UI is plain HTML, CSS and JavaScript, embedded in the binary: no
// build step, nothing fetched from elsewhere.
//
//go:embed ui
var uiFiles embed.FS

// ui serves the single-page UI: its assets, and index.html for every other
// path so that links into the app load it.
func (s *Server) ui() http.Handler {
	sub, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		switch r.URL.Path {
		case "/app.js", "/style.css", "/favicon.svg":
			files.ServeHTTP(w, r)
		default:
			b, _ := uiFiles.ReadFile("ui/index.html")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(b)
		}
	})
}
