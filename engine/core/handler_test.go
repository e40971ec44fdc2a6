package core_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/luraproject/lura/v2/logging"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// handler is the CORS layer of a gateway whose service block is cors, in
// front of next; logger, when not nil, gets the debug lines.
func handler(t testing.TB, cors map[string]any, next http.Handler, logger logging.Logger) http.Handler {
	t.Helper()
	var opts []core.Option
	if logger != nil {
		opts = append(opts, core.WithLogger(logger))
	}
	return plugintest.Gateway{CORS: cors}.Controller(t, opts...).Handler(next)
}

var spaPolicy = map[string]any{
	"allow_origins":     []any{"https://app.example.com"},
	"allow_methods":     []any{"GET", "POST", "PUT"},
	"allow_headers":     []any{"Content-Type", "X-Api-Key"},
	"expose_headers":    []any{"X-Request-Id"},
	"allow_credentials": true,
	"max_age":           "1h",
}

// engine is a gin router like lura's: one endpoint whose "backend" also
// answers CORS, as a no-op endpoint forwards it, and auto_options.
func engine(hits *int, mu *sync.Mutex) *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	count := func() {
		if mu != nil {
			mu.Lock()
			*hits++
			mu.Unlock()
		}
	}
	e.GET("/users/:id", func(c *gin.Context) {
		count()
		h := c.Writer.Header()
		h.Add("Access-Control-Allow-Origin", "*")
		h.Add("Vary", "Origin")
		h.Add("Vary", "Accept-Encoding")
		h.Add("X-Request-Id", "42")
		c.String(http.StatusOK, "user "+c.Param("id"))
	})
	e.GET("/fail", func(c *gin.Context) { count(); c.Status(http.StatusInternalServerError) })
	e.OPTIONS("/users/:id", func(c *gin.Context) { c.Header("Allow", "GET") })
	return e
}

func do(h http.Handler, method, target string, kv ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandler(t *testing.T) {
	hits := 0
	var mu sync.Mutex
	h := handler(t, spaPolicy, engine(&hits, &mu), nil)

	t.Run("preflight answered before routing", func(t *testing.T) {
		hits = 0
		w := do(h, "OPTIONS", "/users/7", "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-api-key")
		if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" || w.Header().Get("Access-Control-Allow-Methods") != "PUT" || w.Header().Get("Access-Control-Max-Age") != "3600" {
			t.Errorf("got %d %v", w.Code, w.Header())
		}
		if w.Header().Get("Allow") != "" || hits != 0 {
			t.Errorf("the preflight reached the router: Allow=%q hits=%d", w.Header().Get("Allow"), hits)
		}
	})
	t.Run("preflight to a path no route serves", func(t *testing.T) {
		w := do(h, "OPTIONS", "/nowhere", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET")
		if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("got %d %v", w.Code, w.Header())
		}
	})
	t.Run("bare OPTIONS goes to the router", func(t *testing.T) {
		w := do(h, "OPTIONS", "/users/7")
		if w.Code != 200 || w.Header().Get("Allow") != "GET" || w.Header().Get("Vary") != "Origin" {
			t.Errorf("got %d %v", w.Code, w.Header())
		}
	})
	t.Run("double CORS: the gateway's answer wins", func(t *testing.T) {
		w := do(h, "GET", "/users/7", "Origin", "https://app.example.com")
		if got := w.Header().Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://app.example.com" {
			t.Errorf("Access-Control-Allow-Origin = %q", got)
		}
		if got := w.Header().Values("Vary"); len(got) != 2 || got[0] != "Origin" || got[1] != "Accept-Encoding" {
			t.Errorf("Vary = %q", got)
		}
		if w.Body.String() != "user 7" || w.Header().Get("Access-Control-Expose-Headers") != "X-Request-Id" {
			t.Errorf("body %q headers %v", w.Body, w.Header())
		}
	})
	t.Run("refused origin: backend CORS stripped", func(t *testing.T) {
		w := do(h, "GET", "/users/7", "Origin", "https://evil.example")
		if got := w.Header().Values("Access-Control-Allow-Origin"); len(got) != 0 {
			t.Errorf("Access-Control-Allow-Origin = %q", got)
		}
		if w.Code != 200 || w.Header().Get(core.ReasonHeader) != "" {
			t.Errorf("got %d %v", w.Code, w.Header())
		}
	})
	for _, tc := range []struct{ path, method string }{{"/missing", "GET"}, {"/users/7", "DELETE"}, {"/fail", "GET"}} {
		t.Run("CORS on gateway error "+tc.method+" "+tc.path, func(t *testing.T) {
			w := do(h, tc.method, tc.path, "Origin", "https://app.example.com")
			if w.Code < 400 || (tc.method == "GET" && w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com") {
				t.Errorf("got %d %v", w.Code, w.Header())
			}
			if w.Header().Get("Vary") != "Origin" {
				t.Errorf("Vary = %q", w.Header().Values("Vary"))
			}
		})
	}
}

func TestHandlerPassthrough(t *testing.T) {
	cors := map[string]any{"options_passthrough": true, "options_success_status": 200}
	h := handler(t, cors, engine(new(int), nil), nil)
	w := do(h, "OPTIONS", "/users/7", "Origin", "https://a.example", "Access-Control-Request-Method", "GET")
	if w.Code != 200 || w.Header().Get("Allow") != "GET" || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("got %d %v", w.Code, w.Header())
	}
}

func TestHandlerDebug(t *testing.T) {
	var buf bytes.Buffer
	logger, err := logging.NewLogger("DEBUG", &buf, "")
	if err != nil {
		t.Fatal(err)
	}
	cors := map[string]any{"allow_origins": []any{"https://app.example.com"}, "allow_headers": []any{"Content-Type"}, "debug": true}
	h := handler(t, cors, engine(new(int), nil), logger)

	w := do(h, "OPTIONS", "/users/7", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "X-Api-Key")
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("refused preflight got CORS headers: %v", w.Header())
	}
	wantReason := `header "x-api-key" is not in allow_headers`
	if !strings.Contains(w.Header().Get(core.ReasonHeader), wantReason) {
		t.Errorf("%s = %q", core.ReasonHeader, w.Header().Get(core.ReasonHeader))
	}
	w = do(h, "GET", "/users/7", "Origin", "https://evil.example")
	if !strings.Contains(w.Header().Get(core.ReasonHeader), `origin "https://evil.example" is not in allow_origins`) {
		t.Errorf("%s = %q", core.ReasonHeader, w.Header().Get(core.ReasonHeader))
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], core.LogPrefix+" OPTIONS /users/7 preflight refused: "+wantReason) || !strings.Contains(lines[1], "GET /users/7 request refused") {
		t.Errorf("debug log:\n%s", buf.String())
	}

	// Without debug, nothing about the policy leaks.
	cors["debug"] = false
	h = handler(t, cors, engine(new(int), nil), logger)
	buf.Reset()
	w = do(h, "GET", "/users/7", "Origin", "https://evil.example")
	if w.Header().Get(core.ReasonHeader) != "" || buf.Len() != 0 {
		t.Errorf("debug off leaked: header %q log %q", w.Header().Get(core.ReasonHeader), buf.String())
	}
}

// TestHandlerConcurrentSwap serves requests from many goroutines whose
// handlers add to Vary and to the CORS headers, while the policies are
// replaced with Controller.Apply. Run with -race: no data race, and every response is answered
// entirely by one of the two policies.
func TestHandlerConcurrentSwap(t *testing.T) {
	a := &policy.Document{Service: &policy.Block{AllowOrigins: []string{"https://a.example.com"}, ExposeHeaders: []string{"X-A"}}}
	b := &policy.Document{Service: &policy.Block{AllowOrigins: []string{"https://b.example.com"}, ExposeHeaders: []string{"X-B"}}}
	e := gin.New()
	e.GET("/x", func(c *gin.Context) {
		h := c.Writer.Header()
		h.Add("Vary", "Accept-Encoding")
		h.Add("Access-Control-Expose-Headers", "X-Backend")
		c.Status(http.StatusOK)
	})
	c, err := core.NewController(route.New(nil, false), a)
	if err != nil {
		t.Fatal(err)
	}
	h := c.Handler(e)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			doc := a
			if i%2 == 0 {
				doc = b
			}
			if _, err := c.Apply(doc); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	errs := make(chan string, 100)
	var clients sync.WaitGroup
	for g := 0; g < 8; g++ {
		clients.Add(1)
		go func(g int) {
			defer clients.Done()
			for i := 0; i < 200; i++ {
				origin := "https://a.example.com"
				if (g+i)%2 == 1 {
					origin = "https://b.example.com"
				}
				w := do(h, "GET", "/x", "Origin", origin)
				w.Header().Add("Vary", "Cookie") // a later writer appends
				acao, expose := w.Header().Get("Access-Control-Allow-Origin"), w.Header().Values("Access-Control-Expose-Headers")
				switch {
				case acao == "" && len(expose) == 0:
				case acao == "https://a.example.com" && len(expose) == 1 && expose[0] == "X-A":
				case acao == "https://b.example.com" && len(expose) == 1 && expose[0] == "X-B":
				default:
					select {
					case errs <- origin + ": " + acao + " " + strings.Join(expose, "|"):
					default:
					}
				}
				if v := w.Header().Values("Vary"); len(v) != 2 || v[0] != "Accept-Encoding, Origin" {
					select {
					case errs <- "Vary " + strings.Join(v, "|"):
					default:
					}
				}
			}
		}(g)
	}
	clients.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// warnings records the Warning lines of a logger.
type warnings struct {
	logging.Logger
	mu    sync.Mutex
	lines []string
}

func (w *warnings) Warning(v ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, fmt.Sprint(v...))
}

// A WebSocket upgrade from an origin the policy does not allow gets 403
// and never reaches the router; its reason is logged, at most once a
// second. Browsers apply no CORS to WebSockets, so nothing else would stop
// a page on another site from opening one with the user's cookies.
func TestHandlerWebSocketUpgrade(t *testing.T) {
	var hits int
	var mu sync.Mutex
	log := &warnings{Logger: logging.NoOp}
	h := handler(t, spaPolicy, engine(&hits, &mu), log)
	upgrade := []string{"Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}
	for i := 0; i < 3; i++ {
		w := do(h, "GET", "/users/1", append([]string{"Origin", "https://evil.example"}, upgrade...)...)
		if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" || !strings.Contains(w.Body.String(), "WebSocket upgrade refused") {
			t.Errorf("upgrade from a refused origin: %d %v %q", w.Code, w.Header(), w.Body.String())
		}
	}
	if hits != 0 {
		t.Errorf("the router saw %d refused upgrade(s)", hits)
	}
	if len(log.lines) != 1 || !strings.Contains(log.lines[0], `origin "https://evil.example" is not in allow_origins`) {
		t.Errorf("log lines: %q (want one for three refusals within a second)", log.lines)
	}
	// An allowed origin, an upgrade without Origin (not from a page), and a
	// refused origin without Upgrade go on as before.
	for _, kv := range [][]string{
		append([]string{"Origin", "https://app.example.com"}, upgrade...),
		upgrade,
		{"Origin", "https://evil.example"},
	} {
		if w := do(h, "GET", "/users/1", kv...); w.Code != http.StatusOK {
			t.Errorf("%v: %d", kv, w.Code)
		}
	}
	if hits != 3 {
		t.Errorf("the router saw %d requests, want 3", hits)
	}
	// Plan agrees with the handler.
	r := httptest.NewRequest("GET", "/users/1", nil)
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Upgrade", "websocket")
	c := plugintest.Gateway{CORS: spaPolicy}.Controller(t)
	if p := c.Snapshot().Plan(r); p.Action != core.RefuseUpgrade || p.Decision.Reason != policy.UpgradeDenied {
		t.Errorf("plan: %v %v", p.Action, p.Decision.Reason)
	}
}

// websocket_origins decides upgrades on its own: an origin it lists opens
// a socket even when CORS would refuse it with terminate_unmatched_request,
// and HTTP/2's extended CONNECT is checked as an upgrade too.
func TestUpgradeDecidedByWebSocketOrigins(t *testing.T) {
	var hits int
	var mu sync.Mutex
	cors := map[string]any{"allow_origins": []any{"https://app.example.com"}, "websocket_origins": []any{"https://chat.example.com"}, "terminate_unmatched_request": true}
	h := handler(t, cors, engine(&hits, &mu), nil)
	if w := do(h, "GET", "/users/1", "Origin", "https://chat.example.com", "Upgrade", "websocket"); w.Code != http.StatusOK || hits != 1 {
		t.Errorf("an upgrade from a websocket_origins origin: %d, router hits %d, %v", w.Code, hits, w.Header())
	}
	if w := do(h, "GET", "/users/1", "Origin", "https://app.example.com", "Upgrade", "websocket"); w.Code != http.StatusForbidden {
		t.Errorf("an upgrade from a CORS origin that websocket_origins does not list: %d", w.Code)
	}
	c := plugintest.Gateway{CORS: cors}.Controller(t)
	r := httptest.NewRequest("CONNECT", "/users/1", nil)
	r.Header.Set("Origin", "https://evil.example")
	r.Header[":protocol"] = []string{"websocket"}
	if p := c.Snapshot().Plan(r); p.Action != core.RefuseUpgrade || p.Status() != http.StatusForbidden {
		t.Errorf("extended CONNECT from a refused origin: %v %d", p.Action, p.Status())
	}
	r.Header.Set("Origin", "https://chat.example.com")
	if p := c.Snapshot().Plan(r); p.Action != core.Forward {
		t.Errorf("extended CONNECT from an allowed origin: %v", p.Action)
	}
}
