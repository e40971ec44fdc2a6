package admin_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// Requests served while the API changes the policy are each served by one
// whole policy: an origin and the exposed header of the same policy, never
// one of each. Run with -race.
func TestRequestsDuringAPIChangesGetOneWholePolicy(t *testing.T) {
	f := newFixture(t, plugintest.Gateway{
		CORS:      plugintest.Block{"allow_origins": []any{"https://a.example.com"}, "expose_headers": []any{"X-A"}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)},
	}, "")
	layers := []string{
		`{"service": {"allow_origins": ["https://b.example.com"], "expose_headers": ["X-B"]}}`,
		`{"service": {"allow_origins": ["https://a.example.com"], "expose_headers": ["X-A"]}}`,
	}
	h := f.ctrl.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Access-Control-Expose-Headers", "X-Backend")
		w.WriteHeader(200)
	}))
	stop := make(chan struct{})
	var writes atomic.Int64
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, v := f.call("PUT", "/v1/cors/layer", layers[i%2], "If-Match", `"`+strconv.FormatUint(f.state.Status().Revision, 10)+`"`)
			if v["ok"] == true {
				writes.Add(1)
			}
		}
	}()
	var clients sync.WaitGroup
	var bad atomic.Int64
	for g := 0; g < 4; g++ {
		clients.Add(1)
		go func(g int) {
			defer clients.Done()
			deadline := time.Now().Add(20 * time.Second) // a broken writer must not hang the test
			for i := 0; writes.Load() < 20 && bad.Load() == 0 && time.Now().Before(deadline); i++ {
				origin := []string{"https://a.example.com", "https://b.example.com"}[(g+i)%2]
				r := httptest.NewRequest("GET", "/users/1", nil)
				r.Header.Set("Origin", origin)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				acao, expose := w.Header().Get("Access-Control-Allow-Origin"), strings.Join(w.Header().Values("Access-Control-Expose-Headers"), ",")
				switch {
				case acao == "" && expose == "":
				case acao == "https://a.example.com" && expose == "X-A":
				case acao == "https://b.example.com" && expose == "X-B":
				default:
					bad.Add(1)
					t.Errorf("a response mixes policies: %q %q", acao, expose)
				}
			}
		}(g)
	}
	clients.Wait()
	close(stop)
	writer.Wait()
	if writes.Load() < 20 || bad.Load() != 0 {
		t.Errorf("%d changes applied during the requests, %d mixed responses", writes.Load(), bad.Load())
	}
}
