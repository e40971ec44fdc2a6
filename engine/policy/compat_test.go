package policy

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/cors"
)

// krakendCE builds the rs/cors middleware the way krakend-cors v2 does for
// KrakenD CE (empty origins and headers become "*", durations become
// seconds, and a negative one becomes Access-Control-Max-Age: 0), so that
// corsgate can be compared with it request by request.
func krakendCE(c Block) *cors.Cors {
	o := cors.Options{
		AllowedOrigins:   c.AllowOrigins,
		AllowedMethods:   c.AllowMethods,
		AllowedHeaders:   c.AllowHeaders,
		ExposedHeaders:   c.ExposeHeaders,
		AllowCredentials: c.AllowCredentials != nil && *c.AllowCredentials,
	}
	if len(o.AllowedOrigins) == 0 {
		o.AllowedOrigins = []string{"*"}
	}
	if len(o.AllowedHeaders) == 0 {
		o.AllowedHeaders = []string{"*"}
	}
	if c.MaxAge != nil {
		d, _ := time.ParseDuration(*c.MaxAge)
		o.MaxAge = int(d.Seconds())
	}
	return cors.New(o)
}

// TestSameAnswersAsKrakenDCE sends browser-shaped requests (lower-case,
// sorted Access-Control-Request-Headers; exact origins) through corsgate
// and through rs/cors configured as KrakenD CE configures it, and expects
// the same status and the same headers. Where corsgate deliberately
// differs (see the README), the requests are not browser-shaped or the
// configuration is refused, so none of those cases is here.
func TestSameAnswersAsKrakenDCE(t *testing.T) {
	configs := map[string]Block{
		"KrakenD doc example": {
			AllowOrigins:  []string{"*"},
			AllowMethods:  []string{"GET", "HEAD", "POST"},
			ExposeHeaders: []string{"Content-Length", "Content-Type"},
			AllowHeaders:  []string{"Accept-Language"},
			MaxAge:        ptr("12h"),
		},
		"empty block": {},
		"no preflight cache (negative max_age)": {
			AllowOrigins: []string{"https://app.example.com"},
			MaxAge:       ptr("-1s"),
		},
		"SPA with credentials": {
			AllowOrigins:     []string{"https://app.example.com", "http://localhost:5173"},
			AllowMethods:     []string{"GET", "POST", "PUT", "DELETE"},
			AllowHeaders:     []string{"Content-Type", "Authorization", "X-Api-Key"},
			ExposeHeaders:    []string{"X-Request-Id"},
			AllowCredentials: ptr(true),
			MaxAge:           ptr("10m"),
		},
	}
	origins := []string{"https://app.example.com", "http://localhost:5173", "https://evil.example", "http://app.example.com", "null"}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH"}
	acrhs := []string{"", "content-type", "authorization,content-type", "accept-language", "x-api-key,x-other"}

	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	compared := 0
	for name, c := range configs {
		ours := mustCompile(t, c)
		theirs := krakendCE(c).Handler(ok)
		for _, o := range origins {
			for _, m := range methods {
				for _, acrh := range acrhs {
					pre := httptest.NewRequest(http.MethodOptions, "/users", nil)
					pre.Header.Set("Origin", o)
					pre.Header.Set("Access-Control-Request-Method", m)
					if acrh != "" {
						pre.Header.Set("Access-Control-Request-Headers", acrh)
					}
					compare(t, name, pre, ours, theirs)
					compared++
				}
				act := httptest.NewRequest(m, "/users", nil)
				act.Header.Set("Origin", o)
				compare(t, name, act, ours, theirs)
				compared++
			}
		}
	}
	if compared < 300 {
		t.Fatalf("only %d requests compared", compared)
	}
}

func compare(t *testing.T, name string, r *http.Request, ours *Policy, theirs http.Handler) {
	t.Helper()
	want := httptest.NewRecorder()
	theirs.ServeHTTP(want, r)

	got := httptest.NewRecorder()
	status := http.StatusOK
	if IsPreflight(r) {
		ours.WritePreflight(got.Header(), r.Header, ours.Preflight(r.Header))
		status = ours.SuccessStatus()
	} else {
		ours.WriteActual(got.Header(), r.Header["Origin"], ours.Actual(r.Method, r.Header))
	}
	if status != want.Code || !reflect.DeepEqual(got.Header(), want.Header()) {
		t.Errorf("%s: %s %s (%s): corsgate %d %v, KrakenD CE %d %v", name, r.Method, r.URL, strings.TrimSpace(headerLine(r.Header)), status, got.Header(), want.Code, want.Header())
	}
}

func headerLine(h http.Header) string {
	var b strings.Builder
	for k, v := range h {
		b.WriteString(k + ": " + strings.Join(v, ",") + "; ")
	}
	return b.String()
}
