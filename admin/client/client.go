// Package client calls corsgate's admin API: the one small client that
// corsgate config and the load tools share. It sends the credentials of
// the environment (a Bearer token, or HTTP Basic), the If-Match of a
// conditional write, and reads answers in the API's error shape.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/internal/apierror"
)

// DefaultURL is the admin API's address when none is given.
const DefaultURL = "http://127.0.0.1:9091"

// DefaultUser is the HTTP Basic user sent with CORSGATE_ADMIN_PASSWORD
// when CORSGATE_ADMIN_USER is not set: the user of make run, make fleet
// and the docs.
const DefaultUser = "admin"

// maxAnswer bounds an answer read from the API.
const maxAnswer = 64 << 20

// Client calls one admin API.
type Client struct {
	base  string // scheme://host[:port], without a trailing slash
	shown string // base with its password hidden, for messages
	http  *http.Client
	// Token, or User and Password, are the credentials sent.
	Token, User, Password string
	// defaultUser is set when User is DefaultUser because the
	// environment names no user; urlUser is the user of base.
	defaultUser bool
	urlUser     string
	timeout     time.Duration
}

// New returns a client of the admin API at base (an http or https URL),
// with the credentials of the environment: CORSGATE_ADMIN_TOKEN, or
// CORSGATE_ADMIN_USER (DefaultUser when only CORSGATE_ADMIN_PASSWORD is
// set) and CORSGATE_ADMIN_PASSWORD. A user and password in base are used
// when the environment has none, and never shown in a message. Each call
// times out after timeout.
func New(base string, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL such as %s", redact(base), DefaultURL)
	}
	c := &Client{
		base:    u.String(),
		shown:   u.Redacted(),
		http:    &http.Client{Timeout: timeout},
		timeout: timeout,
		Token:   os.Getenv(auth.EnvToken), User: os.Getenv(auth.EnvUser), Password: os.Getenv(auth.EnvPassword),
	}
	if c.User == "" && c.Password != "" {
		c.User, c.defaultUser = DefaultUser, true
	}
	if u.User != nil {
		c.urlUser = u.User.Username()
	}
	return c, nil
}

// Credentials says which credentials the client sends and where each
// comes from: the user name and the names of the variables, never a
// password or a token. It is "" when it sends none.
func (c *Client) Credentials() string {
	switch {
	case c.Token != "":
		return "the Bearer token from " + auth.EnvToken
	case c.User != "":
		who := fmt.Sprintf("user %q from %s", c.User, auth.EnvUser)
		if c.defaultUser && c.User == DefaultUser {
			who = fmt.Sprintf("user %q (the default, as %s is not set)", c.User, auth.EnvUser)
		}
		if c.Password == "" {
			return who + " with no password (" + auth.EnvPassword + " is not set)"
		}
		return who + ", password from " + auth.EnvPassword
	case c.urlUser != "":
		return fmt.Sprintf("user %q and the password written in the admin URL", c.urlUser)
	}
	return ""
}

// Base returns the API's URL, its password hidden.
func (c *Client) Base() string { return c.shown }

// Answer is an answer of the API.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// c is the client that got it, for the messages of Error.
	c *Client
}

// OK reports a 2xx answer.
func (a *Answer) OK() bool { return a.Status/100 == 2 }

// ETag returns the revision of the answer's ETag, without quotes.
func (a *Answer) ETag() string { return strings.Trim(a.Header.Get("ETag"), `"`) }

// Error returns the API's error of a non-2xx answer, or nil.
func (a *Answer) Error() *Error {
	if a.OK() {
		return nil
	}
	e := &Error{Status: a.Status}
	shaped := json.Unmarshal(a.Body, &e.Body) == nil && e.Body.Reason != ""
	if !shaped {
		e.Body.Reason = strings.TrimSpace(string(a.Body))
	}
	c := a.c
	if c == nil {
		c = &Client{shown: "the admin API"}
	}
	switch {
	case a.Status == http.StatusUnauthorized && shaped:
		e.msg = c.refused()
	case a.Status == http.StatusTooManyRequests && shaped && c.Credentials() != "":
		// The wait after failed attempts: which credentials failed.
		e.msg = strings.TrimSuffix(e.Reason, ".") + "; the credentials sent: " + c.Credentials()
	case shaped:
		e.msg = e.Reason
	default:
		e.msg = fmt.Sprintf("%s answered %d %s%s, which is not an answer of corsgate's admin API: check that it is the address of the gateway's admin listener (corsgate run --admin-listen, or listen in the corsgate/admin block)",
			c.shown, a.Status, http.StatusText(a.Status), excerpt(e.Reason))
	}
	return e
}

// refused is the message of a 401: the credentials sent and where they
// come from, and where to compare them.
func (c *Client) refused() string {
	sent := c.Credentials()
	switch {
	case sent == "":
		return fmt.Sprintf("the admin API at %s needs credentials, and none are set: set %s to the gateway's admin password (with %s, by default %q), or %s to its token",
			c.shown, auth.EnvPassword, auth.EnvUser, DefaultUser, auth.EnvToken)
	case c.Token != "":
		return fmt.Sprintf("the admin API at %s refused the credentials: %s; check it against the token the gateway runs with (its %s, or the token_file of its corsgate/admin block)",
			c.shown, sent, auth.EnvToken)
	}
	return fmt.Sprintf("the admin API at %s refused the credentials: %s; check them against the users the gateway runs with (its %s and %s, or the basic_auth_file of its corsgate/admin block)",
		c.shown, sent, auth.EnvUser, auth.EnvPassword)
}

// excerpt is the start of a body that is not the API's, for a message.
func excerpt(body string) string {
	body = strings.Join(strings.Fields(body), " ")
	if body == "" {
		return ""
	}
	if len(body) > 120 {
		body = body[:117] + "..."
	}
	return fmt.Sprintf(" (%q)", body)
}

// Error is an answer of the API other than 2xx. Its message is one
// sentence for a person: the API's reason, or for a 401 which
// credentials were sent and from which variables, or, when the answer is
// not the API's, what answered.
type Error struct {
	Status int
	apierror.Body
	msg string
}

func (e *Error) Error() string {
	if e.msg == "" {
		return e.Reason
	}
	return e.msg
}

// Do sends a request: path is the route with its query; ifMatch, when not
// empty, a revision sent as If-Match; body, when not nil, JSON. It returns
// an error only when no answer came.
func (c *Client) Do(ctx context.Context, method, path, ifMatch string, body []byte) (*Answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", `"`+strings.Trim(ifMatch, `"`)+`"`)
	}
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	case c.User != "":
		req.SetBasicAuth(c.User, c.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.unreachable(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("the answer of the admin API at %s was cut short (%v); try again", c.shown, cause(err))
	}
	return &Answer{Status: resp.StatusCode, Header: resp.Header, Body: data, c: c}, nil
}

// unreachable is the error of a request that got no answer: one sentence
// that says what happened, without the method and URL (which may hold a
// password) and the layers of network errors that net/http puts before
// it.
func (c *Client) unreachable(err error) error {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("the admin API at %s does not answer: nothing listens there; start the gateway with its admin listener on that address (corsgate run --admin-listen, or listen in the corsgate/admin block), or use the address it listens on", c.shown)
	case errors.As(err, &dns):
		return fmt.Errorf("the admin API at %s does not answer: the host %q is not known (%s); check the admin URL", c.shown, dns.Name, dns.Err)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("the admin API at %s does not answer: it did not within %s; check that the gateway runs and that nothing blocks the way to it", c.shown, c.timeout)
	}
	return fmt.Errorf("the admin API at %s does not answer (%v)", c.shown, cause(err))
}

// cause is the innermost error of the chains that net/http and net build
// (*url.Error, *net.OpError, *os.SyscallError), which say the method, the
// URL and the address again.
func cause(err error) error {
	for {
		var ue *url.Error
		var oe *net.OpError
		var se *os.SyscallError
		switch {
		case errors.As(err, &ue) && ue.Err != nil:
			err = ue.Err
		case errors.As(err, &oe) && oe.Err != nil:
			err = oe.Err
		case errors.As(err, &se) && se.Err != nil:
			err = se.Err
		default:
			return err
		}
	}
}

// Revision reads the revision in force (the ETag of GET /v1/cors/config).
func (c *Client) Revision(ctx context.Context) (string, error) {
	a, err := c.Do(ctx, "GET", "/v1/cors/config", "", nil)
	if err != nil {
		return "", err
	}
	if e := a.Error(); e != nil {
		return "", e
	}
	return a.ETag(), nil
}

// redact hides the password of a URL, for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.Index(raw, "@"); i >= 0 {
			if j := strings.Index(raw, "://"); j >= 0 && j < i {
				return raw[:j+3] + "REDACTED" + raw[i:]
			}
		}
		return raw
	}
	return u.Redacted()
}
