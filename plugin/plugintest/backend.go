package plugintest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// Backend is a test backend behind a gateway: it counts the requests that
// reach it and records the headers of the last one. NewBackend's answers
// 200 with a small JSON body; ServeBackend's answers with a handler of the
// test's. Two paths of NewBackend's behave like real backends with their
// own ideas:
// /own-cors answers with its own CORS headers (Access-Control-Allow-Origin
// OtherOrigin, Vary: Origin, X-Backend: own-cors), and /object sends
// X-Object-Meta-Color, X-Object-Meta-Size and X-Object-Other.
type Backend struct {
	URL     string
	hits    atomic.Int64
	options atomic.Int64
	mu      sync.Mutex
	last    http.Header
}

// OtherOrigin is the origin /own-cors allows.
const OtherOrigin = "https://backend-choice.example"

// NewBackend starts a Backend on loopback for the duration of the test.
func NewBackend(t testing.TB) *Backend {
	return ServeBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		switch r.URL.Path {
		case "/own-cors":
			h.Set("Access-Control-Allow-Origin", OtherOrigin)
			h.Set("Vary", "Origin")
			h.Set("X-Backend", "own-cors")
		case "/object":
			h.Set("X-Object-Meta-Color", "blue")
			h.Set("X-Object-Meta-Size", "42")
			h.Set("X-Object-Other", "hidden")
		}
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"ok":true}`))
	}))
}

// ServeBackend starts a Backend on loopback, for the duration of the
// test, that answers with handler behind its counters.
func ServeBackend(t testing.TB, handler http.Handler) *Backend {
	t.Helper()
	b := &Backend{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		if r.Method == http.MethodOptions {
			b.options.Add(1)
		}
		b.mu.Lock()
		b.last = r.Header.Clone()
		b.mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	return b
}

// Hits counts the requests that reached the backend.
func (b *Backend) Hits() int64 { return b.hits.Load() }

// Options counts the OPTIONS requests that reached the backend.
func (b *Backend) Options() int64 { return b.options.Load() }

// LastHeaders returns the headers of the last request that reached it.
func (b *Backend) LastHeaders() http.Header {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last.Clone()
}
