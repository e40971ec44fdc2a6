package policy_test

import (
	"strings"
	"testing"

	"github.com/corsgate/corsgate/engine/policy"
)

// The linter's findings are warnings, never errors, and each says how to
// fix it.
func TestLinter(t *testing.T) {
	creds := true
	for _, tc := range []struct {
		name string
		b    policy.Block
		path string // of the one warning; "" for none
		want []string
	}{
		{"max_age above Chromium's cap", policy.Block{AllowOrigins: []string{"https://a.example"}, MaxAge: ptr("3h")}, "cors.max_age", []string{"Chromium caps it at 2h", `write "2h" or less`}},
		{"max_age above Firefox's cap", policy.Block{AllowOrigins: []string{"https://a.example"}, MaxAge: ptr("48h")}, "cors.max_age", []string{"and Firefox at 24h"}},
		{"max_age at the cap", policy.Block{AllowOrigins: []string{"https://a.example"}, MaxAge: ptr("2h")}, "", nil},
		{"http origin with credentials", policy.Block{AllowOrigins: []string{"http://app.example.com"}, AllowCredentials: &creds, AllowHeaders: []string{"X-A"}}, "cors.allow_origins[0]", []string{"plain http://", "https://"}},
		{"http localhost with credentials", policy.Block{AllowOrigins: []string{"http://localhost:5173", "http://127.0.0.1:5173"}, AllowCredentials: &creds, AllowHeaders: []string{"X-A"}}, "", nil},
		{"http origin without credentials", policy.Block{AllowOrigins: []string{"http://app.example.com"}}, "", nil},
		{"wildcard over a public suffix", policy.Block{AllowOrigins: []string{"https://*.github.io"}}, "cors.allow_origins[0]", []string{"every site under github.io", `"https://my-app.github.io"`}},
		{"wildcard over herokuapp.com", policy.Block{AllowOrigins: []string{"https://*.herokuapp.com"}}, "cors.allow_origins[0]", []string{"herokuapp.com"}},
		{"wildcard over a TLD", policy.Block{AllowOrigins: []string{"https://*.co.uk"}}, "cors.allow_origins[0]", []string{"co.uk"}},
		{"wildcard over one's own domain", policy.Block{AllowOrigins: []string{"https://*.example.com"}}, "", nil},
		{"any header with credentials", policy.Block{AllowOrigins: []string{"https://a.example"}, AllowCredentials: &creds}, "cors.allow_headers", []string{"allows any request header", "list the headers"}},
		{"listed headers with credentials", policy.Block{AllowOrigins: []string{"https://a.example"}, AllowCredentials: &creds, AllowHeaders: []string{"Content-Type"}}, "", nil},
		{"exposing Authorization", policy.Block{AllowOrigins: []string{"https://a.example"}, ExposeHeaders: []string{"X-Request-Id", "authorization"}}, "cors.expose_headers[1]", []string{"carries credentials", "remove it"}},
		{"a prefix that exposes Set-Cookie", policy.Block{AllowOrigins: []string{"https://a.example"}, ExposeHeaders: []string{"Set-*"}}, "cors.expose_headers", []string{"Set-Cookie", "narrower prefix"}},
		{"any origin may open a WebSocket", policy.Block{AllowOrigins: []string{"https://a.example"}, WebSocketOrigins: []string{"*"}}, "cors.websocket_origins[0]", []string{"cross-site WebSocket hijacking"}},
		{"null may open a WebSocket", policy.Block{AllowOrigins: []string{"https://a.example"}, WebSocketOrigins: []string{"null"}}, "cors.websocket_origins[0]", []string{"sandboxed iframes"}},
		{"a wildcard may open a WebSocket", policy.Block{AllowOrigins: []string{"https://a.example"}, WebSocketOrigins: []string{"https://*.example.com"}}, "cors.websocket_origins[0]", []string{"every matching site"}},
		{"listed WebSocket origins", policy.Block{AllowOrigins: []string{"https://a.example"}, WebSocketOrigins: []string{"https://chat.example"}}, "", nil},
		{"a harmless prefix", policy.Block{AllowOrigins: []string{"https://a.example"}, ExposeHeaders: []string{"X-Object-Meta-*"}}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warnings, errs := policy.CheckBlock(&tc.b, policy.ServiceLevel, "cors")
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if tc.path == "" {
				if len(warnings) > 0 {
					t.Errorf("warnings: %v", warnings)
				}
				return
			}
			if len(warnings) != 1 || warnings[0].Path != tc.path {
				t.Fatalf("warnings %v, want one at %s", warnings, tc.path)
			}
			for _, w := range tc.want {
				if !strings.Contains(warnings[0].Message, w) {
					t.Errorf("%q lacks %q", warnings[0].Message, w)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
