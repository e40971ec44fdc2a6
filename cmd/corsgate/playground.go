package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/corsgate/corsgate/debug/playground"
	"github.com/corsgate/corsgate/internal/listener"
)

// playgroundCommand serves the CORS playground page until SIGINT or
// SIGTERM.
func playgroundCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("playground", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8099", "address of the playground page; its origin must be in the gateway's allow_origins")
	target := fs.String("target", "http://localhost:8080", "URL of the gateway the page sends its requests to")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	h, err := playground.New(*target, nil)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate playground:", err)
		return 2
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "corsgate playground: --listen %q: %v\n", *listen, err)
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate playground:", err)
		return 1
	}
	// The origin the browser will see: the host as given (localhost stays
	// localhost), the port as bound (so that port 0 works).
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	port := ln.Addr().(*net.TCPAddr).Port
	origin := "http://" + net.JoinHostPort(host, fmt.Sprint(port))
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(stderr, "corsgate playground: warning: listening on %s, not a loopback address; the page and its API are reachable from other hosts\n", *listen)
	}

	srv := &http.Server{Handler: h}
	listener.Playground.Apply(srv)
	ln = listener.Playground.Wrap(ln)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, "corsgate playground: open %s/ in a browser\n", origin)
	fmt.Fprintf(stdout, "  page origin %s (add it to the gateway's security/cors allow_origins)\n", origin)
	fmt.Fprintf(stdout, "  gateway     %s (run it with -d or debug_endpoint: true for the explanations)\n", h.Target())

	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "corsgate playground:", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "corsgate playground:", err)
		return 1
	}
	return 0
}
