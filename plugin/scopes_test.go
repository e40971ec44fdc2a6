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
// CORS layer, proxying to a test backend. e2e.TestScopeCases runs the same
// table against the corsgate binary.
func TestScopeCases(t *testing.T) {
	plugintest.RunScopeCases(t, func(t *testing.T, g plugintest.Gateway) plugintest.Client {
		h, _ := g.Serve(t, nil)
		return func(t *testing.T, method, path string, hdr http.Header) (*http.Response, string) {
			r := httptest.NewRequest(method, path, nil)
			r.Header = hdr
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w.Result(), w.Body.String()
		}
	})
}
