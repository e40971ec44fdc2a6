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
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/internal/apierror"
)

// DefaultURL is the admin API's address when none is given.
const DefaultURL = "http://127.0.0.1:9091"

// maxAnswer bounds an answer read from the API.
const maxAnswer = 64 << 20

// Client calls one admin API.
type Client struct {
	base  string // scheme://host[:port], without a trailing slash
	shown string // base with its password hidden, for messages
	http  *http.Client
	// Token, or User and Password, are the credentials sent.
	Token, User, Password string
}

// New returns a client of the admin API at base (an http or https URL),
// with the credentials of the environment: CORSGATE_ADMIN_TOKEN, or
// CORSGATE_ADMIN_USER and CORSGATE_ADMIN_PASSWORD (a user and password in
// base are used when the environment has none, and never shown in a
// message). Each call times out after timeout.
func New(base string, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL such as %s", redact(base), DefaultURL)
	}
	return &Client{
		base:  u.String(),
		shown: u.Redacted(),
		http:  &http.Client{Timeout: timeout},
		Token: os.Getenv(auth.EnvToken), User: os.Getenv(auth.EnvUser), Password: os.Getenv(auth.EnvPassword),
	}, nil
}

// Base returns the API's URL, its password hidden.
func (c *Client) Base() string { return c.shown }

// Answer is an answer of the API.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
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
	if json.Unmarshal(a.Body, &e.Body) != nil || e.Body.Reason == "" {
		e.Body.Reason = strings.TrimSpace(string(a.Body))
	}
	return e
}

// Error is an answer of the API other than 2xx.
type Error struct {
	Status int
	apierror.Body
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Reason)
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
		return nil, fmt.Errorf("the admin API at %s does not answer: %v", c.shown, unwrapURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of the admin API at %s: %v", c.shown, err)
	}
	return &Answer{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// Revision reads the revision in force (the ETag of GET /v1/cors/config).
func (c *Client) Revision(ctx context.Context) (string, error) {
	a, err := c.Do(ctx, "GET", "/v1/cors/config", "", nil)
	if err != nil {
		return "", err
	}
	if e := a.Error(); e != nil {
		return "", fmt.Errorf("reading the current revision: %w", e)
	}
	return a.ETag(), nil
}

// unwrapURL drops the method and URL (which may hold a password) that
// net/http puts before an error.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
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
