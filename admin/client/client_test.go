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
		e.Error() != "412 Precondition Failed: it is at revision 4" {
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
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "does not answer") || strings.Contains(c.Base(), "hunter2") {
		t.Errorf("error %v, base %q", err, c.Base())
	}
	if _, err := client.New("ftp://admin:hunter2@x", time.Second); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad URL: %v", err)
	}
}
