package main

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strconv"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"
	"github.com/luraproject/lura/v2/transport/http/server"

	"github.com/corsgate/corsgate/internal/listener"
)

// gatewayLimits are the gateway listener's limits: the configuration
// file's timeouts and header bound (read_header_timeout, read_timeout,
// write_timeout, idle_timeout, max_header_bytes), each completed with
// corsgate's default when the file leaves it out, and a connection cap
// (corsgate run --max-connections, else listener.GatewayMaxConns).
func gatewayLimits(cfg luraconfig.ServiceConfig, maxConns int) listener.Limits {
	file := listener.Limits{
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		MaxConns:          maxConns,
	}
	def := listener.Gateway
	def.MaxConns = listener.GatewayMaxConns()
	return file.With(def)
}

// serveGateway runs the gateway's HTTP server as lura's RunServer does
// (its address, TLS and h2c settings), but on a listener with the limits
// l, until ctx is done.
func serveGateway(ctx context.Context, cfg luraconfig.ServiceConfig, h http.Handler, l listener.Limits, logger logging.Logger) error {
	s := server.NewServerWithLogger(cfg, h, logger)
	l.Apply(s)
	if s.TLSConfig != nil {
		keys := cfg.TLS.Keys
		if cfg.TLS.PublicKey != "" || cfg.TLS.PrivateKey != "" {
			keys = append(keys, luraconfig.TLSKeyPair{PublicKey: cfg.TLS.PublicKey, PrivateKey: cfg.TLS.PrivateKey})
		}
		if len(keys) == 0 {
			return server.ErrPublicKey
		}
		for _, k := range keys {
			switch {
			case k.PublicKey == "":
				return server.ErrPublicKey
			case k.PrivateKey == "":
				return server.ErrPrivateKey
			}
			cert, err := tls.LoadX509KeyPair(k.PublicKey, k.PrivateKey)
			if err != nil {
				return err
			}
			s.TLSConfig.Certificates = append(s.TLSConfig.Certificates, cert)
		}
	}
	ln, err := l.Listen(s.Addr)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		if s.TLSConfig != nil {
			done <- s.ServeTLS(ln, "", "")
			return
		}
		done <- s.Serve(ln)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		err := s.Shutdown(context.Background())
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// describeLimits says the limits in one line, for the start-up log.
func describeLimits(l listener.Limits) string {
	write := "none"
	if l.WriteTimeout > 0 {
		write = l.WriteTimeout.String()
	}
	return "read_header_timeout " + l.ReadHeaderTimeout.String() + ", read_timeout " + l.ReadTimeout.String() +
		", write_timeout " + write + ", idle_timeout " + l.IdleTimeout.String() +
		", max_header_bytes " + strconv.Itoa(l.MaxHeaderBytes) + ", at most " + strconv.Itoa(l.MaxConns) + " connections"
}
