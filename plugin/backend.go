package plugin

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
)

// StripBackendCORS wraps lura's endpoint HandlerFactory so that a
// backend's CORS headers never reach a response whose CORS headers the
// gateway has already set: the companion of Controller.PresetHandler, which
// sets them before the router runs and therefore cannot replace a
// backend's at write time, as Controller.Handler does.
//
// lura copies a backend's headers into the response in its endpoint
// handler and its no-op render, from the proxy's Response (and from an
// error that carries headers). The proxy handed to next is wrapped here:
// what it returns is trimmed by policy.TrimBackend against the response
// header the gateway has set so far. So, on a request under a policy, a
// backend's Access-Control-* headers are dropped when the request has an
// Origin, and its Vary tokens are merged without repeats; a request on an
// exempt endpoint, or with no policy, keeps them. With debug on, dropping
// them is logged once per endpoint.
//
// c is the gateway's controller, used only for that log line.
func StripBackendCORS(c *core.Controller, next ginrouter.HandlerFactory) ginrouter.HandlerFactory {
	return func(cfg *luraconfig.EndpointConfig, p proxy.Proxy) gin.HandlerFunc {
		var r *route.Route
		if c != nil {
			r = c.Routes().Lookup(cfg.Method + " " + route.Template(cfg.Endpoint))
		}
		return next(cfg, trimmingProxy(c, r, p))
	}
}

// trimmingProxy is p with the CORS headers of its responses trimmed (see
// StripBackendCORS).
func trimmingProxy(c *core.Controller, r *route.Route, p proxy.Proxy) proxy.Proxy {
	return func(ctx context.Context, req *proxy.Request) (*proxy.Response, error) {
		resp, err := p(ctx, req)
		gc, _ := ctx.Value(gin.ContextKey).(*gin.Context)
		if gc == nil || gc.Request == nil {
			return resp, err
		}
		gw := gc.Writer.Header()
		cors := len(gc.Request.Header["Origin"]) != 0
		dropped := false
		if resp != nil {
			if h, d := policy.TrimBackend(gw, resp.Metadata.Headers, cors); h != nil {
				trimmed := *resp
				trimmed.Metadata.Headers = h
				resp, dropped = &trimmed, d
			}
		}
		if he, ok := err.(headersError); ok {
			if h, d := policy.TrimBackend(gw, he.Headers(), cors); h != nil {
				err, dropped = withHeaders(err, h), dropped || d
			}
		}
		if dropped && c != nil {
			c.BackendSentCORS(r)
		}
		return resp, err
	}
}

// headersError is an error that carries response headers, which lura's
// endpoint handler adds to the response when there is no Response.
type headersError interface {
	error
	Headers() map[string][]string
}

// withHeaders returns err with its headers replaced by h. The error value
// itself is never changed (its map may be shared, or built afresh on each
// call), so it is wrapped; the wrapper keeps the status code and the
// encoding lura reads from an error, when err has them, and unwraps to
// err. (lura also logs each error of an error with Errors() []error on a
// line of its own; the wrapper is logged as one.)
func withHeaders(err error, h http.Header) error {
	base := trimmedError{err: err, headers: h}
	sc, hasStatus := err.(interface{ StatusCode() int })
	enc, hasEncoding := err.(interface{ Encoding() string })
	switch {
	case hasStatus && hasEncoding:
		return trimmedStatusEncodingError{base, sc, enc}
	case hasStatus:
		return trimmedStatusError{base, sc}
	case hasEncoding:
		return trimmedEncodingError{base, enc}
	}
	return base
}

type trimmedError struct {
	err     error
	headers http.Header
}

func (e trimmedError) Error() string                { return e.err.Error() }
func (e trimmedError) Unwrap() error                { return e.err }
func (e trimmedError) Headers() map[string][]string { return e.headers }

type trimmedStatusError struct {
	trimmedError
	status interface{ StatusCode() int }
}

func (e trimmedStatusError) StatusCode() int { return e.status.StatusCode() }

type trimmedEncodingError struct {
	trimmedError
	enc interface{ Encoding() string }
}

func (e trimmedEncodingError) Encoding() string { return e.enc.Encoding() }

type trimmedStatusEncodingError struct {
	trimmedError
	status interface{ StatusCode() int }
	enc    interface{ Encoding() string }
}

func (e trimmedStatusEncodingError) StatusCode() int  { return e.status.StatusCode() }
func (e trimmedStatusEncodingError) Encoding() string { return e.enc.Encoding() }
