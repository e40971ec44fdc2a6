package auth_test

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"

	"github.com/corsgate/corsgate/admin/auth"
)

const opsPassword = "pa:ss word-0123-4567"

// testCredentials has the users admin (from the environment) and ops
// (from a file, with a colon and a space in the password), and a token.
func testCredentials(t *testing.T) *auth.Credentials {
	t.Helper()
	users := (&file{content: "ops:" + opsPassword + "\n"}).create(t, t.TempDir(), "users")
	c, err := auth.Load(auth.Sources{
		BasicAuthFile: users,
		Getenv: fakeEnv(map[string]string{
			auth.EnvUser: "admin", auth.EnvPassword: goodPassword,
			auth.EnvToken: goodToken,
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheck(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		// authorization are the Authorization header lines.
		authorization []string
		user          string
		ok            bool
	}{
		{"Basic", []string{basicHeader("admin", goodPassword)}, "admin", true},
		{"Basic, second user, password with a colon and a space", []string{basicHeader("ops", opsPassword)}, "ops", true},
		{"lowercase scheme basic (RFC 7235)", []string{"basic " + b64("admin:"+goodPassword)}, "admin", true},
		{"uppercase scheme BASIC", []string{"BASIC " + b64("admin:"+goodPassword)}, "admin", true},
		{"several spaces after the scheme", []string{"Basic   " + b64("admin:"+goodPassword)}, "admin", true},
		{"Bearer", []string{"Bearer " + goodToken}, "token", true},
		{"lowercase scheme bearer", []string{"bearer " + goodToken}, "token", true},

		{"no Authorization", nil, "", false},
		{"wrong password", []string{basicHeader("admin", goodPassword+"x")}, "", false},
		{"password with its last character dropped", []string{basicHeader("admin", goodPassword[:len(goodPassword)-1])}, "", false},
		{"wrong user", []string{basicHeader("root", goodPassword)}, "", false},
		{"user name in another case", []string{basicHeader("Admin", goodPassword)}, "", false},
		{"one user's name with the other's password", []string{basicHeader("admin", opsPassword)}, "", false},
		{"wrong token", []string{"Bearer " + goodToken[:len(goodToken)-1] + "x"}, "", false},
		{"token as a Basic password", []string{basicHeader("admin", goodToken)}, "", false},
		{"password as a Bearer token", []string{"Bearer " + goodPassword}, "", false},
		{"token as Basic credentials", []string{"Basic " + goodToken}, "", false},
		{"empty Basic credentials", []string{"Basic " + b64(":")}, "", false},
		{"empty Basic password", []string{basicHeader("admin", "")}, "", false},
		{"Basic with nothing after it", []string{"Basic"}, "", false},
		{"Basic and a space", []string{"Basic "}, "", false},
		{"Bearer with nothing after it", []string{"Bearer "}, "", false},
		{"no space after Basic", []string{"Basic" + b64("admin:"+goodPassword)}, "", false},
		{"no space after Bearer", []string{"Bearer" + goodToken}, "", false},
		{"bad base64", []string{"Basic !!" + b64("admin:"+goodPassword)}, "", false},
		{"base64 without a colon", []string{"Basic " + b64("admin"+goodPassword)}, "", false},
		{"two words after Bearer", []string{"Bearer " + goodToken + " " + goodToken}, "", false},
		{"another scheme", []string{"Digest username=\"admin\""}, "", false},
		{"token without a scheme", []string{goodToken}, "", false},
		{"two valid Authorization lines", []string{basicHeader("admin", goodPassword), "Bearer " + goodToken}, "", false},
	}
	c := testCredentials(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://127.0.0.1:9091/_api/v2/user/config/cors", nil)
			for _, a := range tt.authorization {
				r.Header.Add("Authorization", a)
			}
			user, ok := c.Check(r)
			if user != tt.user || ok != tt.ok {
				t.Errorf("Check = %q, %v; want %q, %v", user, ok, tt.user, tt.ok)
			}
		})
	}
}

// TestCheckEmptyCredentials: credentials that configure nothing accept
// nothing, not even empty credentials.
func TestCheckEmptyCredentials(t *testing.T) {
	c, err := auth.Load(auth.Sources{Getenv: fakeEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, header := range []string{"", "Basic " + base64.StdEncoding.EncodeToString([]byte(":")), "Bearer ", "Bearer x"} {
		r := httptest.NewRequest("GET", "http://127.0.0.1:9091/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if user, ok := c.Check(r); ok {
			t.Errorf("empty Credentials accepted %q as %q", header, user)
		}
	}
}
