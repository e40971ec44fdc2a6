package plugin_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// TestScopeCases runs the scope table of package plugintest in process:
// lura's real gin router, built from each case's configuration, behind the
// CORS layer, proxying to a test backend, wired both ways: as corsgate run
// does (headers set up front, backends' CORS headers dropped by the
// endpoint handlers) and as plugin.Wire does (headers set at write time).
// e2e.TestScopeCases runs the same table against the corsgate binary.
func TestScopeCases(t *testing.T) {
	modes := []struct {
		name  string
		serve func(g plugintest.Gateway, t *testing.T) http.Handler
	}{
		{"preset", func(g plugintest.Gateway, t *testing.T) http.Handler { h, _ := g.Serve(t, nil); return h }},
		{"write-time", func(g plugintest.Gateway, t *testing.T) http.Handler { h, _ := g.ServeWriteTime(t, nil); return h }},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			plugintest.RunScopeCases(t, func(t *testing.T, g plugintest.Gateway) plugintest.Client {
				h := m.serve(g, t)
				return func(t *testing.T, method, path string, hdr http.Header) (*http.Response, string) {
					r := httptest.NewRequest(method, path, nil)
					r.Header = hdr
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					return w.Result(), w.Body.String()
				}
			})
		})
	}
}
