package client_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/corsgate/corsgate/admin/client"
)

func TestDo(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		if r.Method == "PUT" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusPreconditionFailed)
			w.Write([]byte(`{"error": "precondition_failed", "reason": "it is at revision 4", "errors": [{"path": "service", "message": "m"}], "revision": 4}`))
			return
		}
		w.Header().Set("ETag", `"4"`)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	t.Setenv("CORSGATE_ADMIN_TOKEN", "")
	t.Setenv("CORSGATE_ADMIN_USER", "admin")
	t.Setenv("CORSGATE_ADMIN_PASSWORD", "s3cret")
	c, err := client.New(srv.URL+"/", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := c.Revision(context.Background())
	if u, p, _ := got.BasicAuth(); err != nil || rev != "4" || u != "admin" || p != "s3cret" {
		t.Fatalf("Revision: %q %v, credentials %q %q", rev, err, u, p)
	}
	a, err := c.Do(context.Background(), "PUT", "/v1/cors/layer", "4", []byte(`{}`))
	if err != nil || got.Header.Get("If-Match") != `"4"` || got.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("PUT: %v, headers %v", err, got.Header)
	}
	e := a.Error()
	if e == nil || e.Status != 412 || e.Body.Error != "precondition_failed" || len(e.Errors) != 1 || *e.Revision != 4 ||
		e.Error() != "it is at revision 4" {
		t.Errorf("error %+v", e)
	}
}

// A password in the URL is sent, and never shown in a message.
func TestPasswordInURLIsNotShown(t *testing.T) {
	t.Setenv("CORSGATE_ADMIN_TOKEN", "")
	t.Setenv("CORSGATE_ADMIN_USER", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing answers there now
	c, err := client.New("http://admin:hunter2@"+addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), "GET", "/v1/cors/config", "", nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "does not answer: nothing listens there") || strings.Contains(c.Base(), "hunter2") {
		t.Errorf("error %v, base %q", err, c.Base())
	}
	if _, err := client.New("ftp://admin:hunter2@x", time.Second); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad URL: %v", err)
	}
}

// refusing answers every request as the guard does a wrong credential,
// and records the Basic user and the Authorization header it got.
func refusing(t *testing.T, status int) (*httptest.Server, *string, *string) {
	var user, authz string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, _ = r.BasicAuth()
		authz = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(`{"error": "unauthorized", "reason": "The user name or the password is wrong: send HTTP Basic credentials (curl -u NAME:PASSWORD)."}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &user, &authz
}

// The message of a 401 names the credentials sent and the variables they
// come from; never a password or a token, and no curl advice.
func TestRefusedCredentials(t *testing.T) {
	for _, tt := range []struct {
		name, token, user, password string
		sentUser                    string
		want                        string
	}{
		{"password alone: the default user", "", "", "pw-0123456789abcdef", "admin",
			`refused the credentials: user "admin" (the default, as CORSGATE_ADMIN_USER is not set), password from CORSGATE_ADMIN_PASSWORD; check them against the users the gateway runs with (its CORSGATE_ADMIN_USER and CORSGATE_ADMIN_PASSWORD, or the basic_auth_file of its corsgate/admin block)`},
		{"user and password", "", "ops", "pw-0123456789abcdef", "ops",
			`refused the credentials: user "ops" from CORSGATE_ADMIN_USER, password from CORSGATE_ADMIN_PASSWORD; check them`},
		{"user without a password", "", "ops", "", "ops",
			`refused the credentials: user "ops" from CORSGATE_ADMIN_USER with no password (CORSGATE_ADMIN_PASSWORD is not set); check them`},
		{"token", "tok-0123456789abcdef", "ops", "pw-0123456789abcdef", "",
			`refused the credentials: the Bearer token from CORSGATE_ADMIN_TOKEN; check it against the token the gateway runs with (its CORSGATE_ADMIN_TOKEN, or the token_file of its corsgate/admin block)`},
		{"nothing", "", "", "", "",
			`needs credentials, and none are set: set CORSGATE_ADMIN_PASSWORD to the gateway's admin password (with CORSGATE_ADMIN_USER, by default "admin"), or CORSGATE_ADMIN_TOKEN to its token`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, user, _ := refusing(t, http.StatusUnauthorized)
			t.Setenv("CORSGATE_ADMIN_TOKEN", tt.token)
			t.Setenv("CORSGATE_ADMIN_USER", tt.user)
			t.Setenv("CORSGATE_ADMIN_PASSWORD", tt.password)
			c, err := client.New(srv.URL, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Revision(context.Background())
			if *user != tt.sentUser {
				t.Errorf("Basic user sent %q, want %q", *user, tt.sentUser)
			}
			if err == nil {
				t.Fatal("a 401 is no error")
			}
			msg := err.Error()
			if want := "the admin API at " + srv.URL + " "; !strings.HasPrefix(msg, want) || !strings.Contains(msg, tt.want) {
				t.Errorf("message\n%s\nwant it to start with %q and hold\n%s", msg, want, tt.want)
			}
			// The address is taken out first: its random port may hold "401".
			rest := strings.ReplaceAll(msg, srv.URL, "URL")
			for _, never := range []string{"pw-0123456789abcdef", "tok-0123456789abcdef", "curl", "401"} {
				if strings.Contains(rest, never) {
					t.Errorf("the message holds %q: %s", never, msg)
				}
			}
		})
	}
}

// After too many failures, the wait says which credentials failed.
func TestThrottledNamesTheCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error": "too_many_requests", "reason": "Too many failed attempts from this address: try again in 2 s, with the right credentials."}`))
	}))
	defer srv.Close()
	t.Setenv("CORSGATE_ADMIN_TOKEN", "")
	t.Setenv("CORSGATE_ADMIN_USER", "")
	t.Setenv("CORSGATE_ADMIN_PASSWORD", "pw-0123456789abcdef")
	c, _ := client.New(srv.URL, time.Second)
	_, err := c.Revision(context.Background())
	want := `Too many failed attempts from this address: try again in 2 s, with the right credentials; the credentials sent: user "admin" (the default, as CORSGATE_ADMIN_USER is not set), password from CORSGATE_ADMIN_PASSWORD`
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

// An answer that is not the API's (another server on that port, a proxy)
// says what answered and what to check.
func TestNotTheAPI(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	t.Setenv("CORSGATE_ADMIN_TOKEN", "")
	t.Setenv("CORSGATE_ADMIN_PASSWORD", "")
	c, _ := client.New(srv.URL, time.Second)
	_, err := c.Revision(context.Background())
	want := srv.URL + ` answered 404 Not Found ("404 page not found"), which is not an answer of corsgate's admin API: check that it is the address of the gateway's admin listener (corsgate run --admin-listen, or listen in the corsgate/admin block)`
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

// A user and password in the URL are described without the password.
func TestCredentialsOfTheURL(t *testing.T) {
	t.Setenv("CORSGATE_ADMIN_TOKEN", "")
	t.Setenv("CORSGATE_ADMIN_USER", "")
	t.Setenv("CORSGATE_ADMIN_PASSWORD", "")
	c, err := client.New("http://ops:hunter2@127.0.0.1:9091", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Credentials(), `user "ops" and the password written in the admin URL`; got != want {
		t.Errorf("Credentials() = %q, want %q", got, want)
	}
}
