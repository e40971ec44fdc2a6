// Package listener gives every HTTP listener corsgate opens (the gateway,
// the admin API, the playground) the same protections against hostile
// clients: header, read, write and idle timeouts, a bound on header bytes,
// and a cap on concurrent connections, so that a flood of half-open
// connections on one listener (slowloris) is closed within its timeout
// and cannot exhaust the process's file descriptors, which the other
// listeners need.
package listener

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits are one listener's protections. A zero field takes the value of
// the defaults it is completed with (With).
type Limits struct {
	// ReadHeaderTimeout bounds the time to read a request's headers: a
	// client that sends them slowly is cut off after it.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to read a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request's headers
	// to the end of the answer; 0 leaves it unbounded.
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive connection idle for that long.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header bytes.
	MaxHeaderBytes int
	// MaxConns caps the concurrent connections: the listener stops
	// accepting while that many are open, and the kernel queues the
	// others, holding no descriptor of the process.
	MaxConns int
}

// Admin are the admin API's limits. Its writes may wait up to 2 minutes
// for the fleet (?wait=fleet), so its WriteTimeout is longer than that.
var Admin = Limits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       10 * time.Second,
	WriteTimeout:      2*time.Minute + 30*time.Second,
	IdleTimeout:       60 * time.Second,
	MaxHeaderBytes:    64 << 10,
	MaxConns:          64,
}

// Playground are the playground page's limits.
var Playground = Limits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       60 * time.Second,
	MaxHeaderBytes:    64 << 10,
	MaxConns:          64,
}

// Gateway are the gateway's defaults, for the settings its configuration
// file leaves out (read_header_timeout, read_timeout, idle_timeout,
// max_header_bytes): the file's values win. WriteTimeout stays the file's
// (0: unbounded), since a backend's answer may be streamed. MaxConns is
// set from the process's file descriptor limit (GatewayMaxConns).
var Gateway = Limits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       60 * time.Second,
	IdleTimeout:       120 * time.Second,
	MaxHeaderBytes:    1 << 20,
}

// With completes l with defaults for its zero fields.
func (l Limits) With(defaults Limits) Limits {
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = defaults.ReadHeaderTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = defaults.ReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = defaults.WriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = defaults.IdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = defaults.MaxHeaderBytes
	}
	if l.MaxConns <= 0 {
		l.MaxConns = defaults.MaxConns
	}
	return l
}

// Apply sets the limits' timeouts and header bound on s.
func (l Limits) Apply(s *http.Server) {
	s.ReadHeaderTimeout = l.ReadHeaderTimeout
	s.ReadTimeout = l.ReadTimeout
	s.WriteTimeout = l.WriteTimeout
	s.IdleTimeout = l.IdleTimeout
	s.MaxHeaderBytes = l.MaxHeaderBytes
}

// Listen listens on addr (TCP) with the connection cap of l.
func (l Limits) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return l.Wrap(ln), nil
}

// Wrap caps the concurrent connections ln accepts at l.MaxConns (no cap
// when it is not positive).
func (l Limits) Wrap(ln net.Listener) net.Listener {
	if l.MaxConns <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, l.MaxConns), closed: make(chan struct{})}
}

// limitListener is a listener that holds at most cap(slots) connections.
// (golang.org/x/net/netutil has one, but its connections hide CloseWrite,
// without which Go's server closes a connection at once after an error
// answer such as 431, and the client gets a reset instead of the answer.)
type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite closes the writing side when the connection can (TCP, TLS),
// as Go's server does before it closes a connection it answered an error
// on, so that the client reads the answer.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// GatewayMaxConns is the gateway's default connection cap: three quarters
// of the process's file descriptor limit (which Go raises to the hard
// limit at start), so that a flood of connections on the gateway leaves
// descriptors for the admin API, the store and the backends; at least 64.
func GatewayMaxConns() int {
	n := fileLimit() / 4 * 3
	return int(min(max(n, 64), 1<<20))
}
