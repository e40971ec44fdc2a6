package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testPassword = "correct-horse-battery"
	testToken    = "0123456789abcdef0123456789abcdef"
)

// manyCredentials has four users (admin from the environment, three from
// a file) and two tokens.
func manyCredentials(t *testing.T) *Credentials {
	t.Helper()
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	tokens := filepath.Join(dir, "token")
	if err := os.WriteFile(users, []byte("u1:"+testPassword+"-1\nu2:"+testPassword+"-2\nu3:"+testPassword+"-3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokens, []byte("file-"+testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvUser: "admin", EnvPassword: testPassword, EnvToken: testToken}
	c, err := Load(Sources{BasicAuthFile: users, TokenFile: tokens, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.users) != 4 || len(c.tokens) != 2 {
		t.Fatalf("%d users and %d tokens, want 4 and 2", len(c.users), len(c.tokens))
	}
	return c
}

// TestCheckExaminesEveryCredential holds Check to its promise: whichever
// user or token matches, or none, it compares the given secret's digest
// with the digest of every stored credential of the scheme, through the
// constant-time comparison, and no fewer.
func TestCheckExaminesEveryCredential(t *testing.T) {
	basic := func(u, p string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
	}
	tests := []struct {
		name          string
		authorization string
		ok            bool
		// basic is whether the users (else the tokens) are examined.
		basic bool
	}{
		{"first user matches", basic("admin", testPassword), true, true},
		{"last user matches", basic("u3", testPassword+"-3"), true, true},
		{"known user, wrong password", basic("u1", testPassword), false, true},
		{"unknown user", basic("nobody", testPassword), false, true},
		{"first token matches", "Bearer " + testToken, true, false},
		{"last token matches", "Bearer file-" + testToken, true, false},
		{"no token matches", "Bearer wrong-" + testToken, false, false},
	}
	c := manyCredentials(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A copy, so that the counting hook is this subtest's own.
			counted := *c
			seen := map[[sha256.Size]byte]int{}
			counted.compare = func(a, b []byte) int {
				seen[[sha256.Size]byte(b)]++
				return subtle.ConstantTimeCompare(a, b)
			}
			r := httptest.NewRequest("GET", "http://127.0.0.1:9091/", nil)
			r.Header.Set("Authorization", tt.authorization)
			if _, ok := counted.Check(r); ok != tt.ok {
				t.Fatalf("Check ok = %v, want %v", ok, tt.ok)
			}
			var want [][sha256.Size]byte
			if tt.basic {
				for _, u := range c.users {
					want = append(want, u.nameSum, u.passSum)
				}
			} else {
				for _, tok := range c.tokens {
					want = append(want, tok.sum)
				}
			}
			total := 0
			for _, n := range seen {
				total += n
			}
			if total != len(want) {
				t.Errorf("%d comparisons, want %d (one per stored digest)", total, len(want))
			}
			for i, sum := range want {
				if seen[sum] != 1 {
					t.Errorf("stored digest %d compared %d times, want once", i, seen[sum])
				}
			}
		})
	}
}

// TestCredentialsHoldNoSecret: what Load keeps are digests; no password
// or token is in the Credentials value.
func TestCredentialsHoldNoSecret(t *testing.T) {
	c := manyCredentials(t)
	dump := fmt.Sprintf("%#v %+v", *c, c.users)
	for _, secret := range []string{testPassword, testToken} {
		if strings.Contains(dump, secret) {
			t.Errorf("the Credentials hold %q in clear", secret)
		}
	}
}

func TestCanonicalOrigin(t *testing.T) {
	tests := []struct {
		origin string
		want   string // "" when malformed
	}{
		{"http://admin.example", "http://admin.example"},
		{"HTTP://Admin.EXAMPLE", "http://admin.example"},
		{"http://admin.example:80", "http://admin.example"},
		{"https://admin.example:443", "https://admin.example"},
		{"https://admin.example:80", "https://admin.example:80"},
		{"http://admin.example:443", "http://admin.example:443"},
		{"http://127.0.0.1:9091", "http://127.0.0.1:9091"},
		{"http://[::1]:9091", "http://[::1]:9091"},
		{"http://[::1]:80", "http://[::1]"},
		{"http://[::1]", "http://[::1]"},
		{"chrome-extension://abcdef", "chrome-extension://abcdef"},
		{"null", ""},
		{"", ""},
		{"admin.example", ""},
		{"http://", ""},
		{"://admin.example", ""},
		{"1http://admin.example", ""},
		{"http://admin.example/", ""},
		{"http://admin.example/path", ""},
		{"http://admin.example?x", ""},
		{"http://admin.example#x", ""},
		{"http://user@admin.example", ""},
		{"http://admin.example:", ""},
		{"http://admin.example:80a", ""},
		{"http://admin.example:123456", ""},
		{"http://:80", ""},
		{"http://a:b:80", ""},
		{"http://[::1", ""},
		{"http://[]:80", ""},
		{"http://[::1]x", ""},
		{"http://a]", ""},
		{"http://admin.example http://evil.example", ""},
		{"http://admin.example\t", ""},
		{"http://admin.examplé", ""},
		{`http://admin.example\@evil.example`, ""},
	}
	for _, tt := range tests {
		got, ok := parseOrigin(tt.origin)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("parseOrigin(%q) = %q, %v; want %q", tt.origin, got, ok, tt.want)
		}
	}
}
