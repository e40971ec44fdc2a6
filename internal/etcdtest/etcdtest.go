// Package etcdtest runs a real etcd server for tests: one member on free
// loopback ports, with its data in the test's temporary directory, killed
// when the test ends. Tests of any package of the module may use it,
// including the end-to-end tests.
//
// The etcd binary is $ETCD_PATH, or etcd in PATH; a test that needs it
// fails, saying how to install it, when it is missing.
package etcdtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// healthTimeout is how long Start and Restart wait for the server to say
// it is healthy.
const healthTimeout = 10 * time.Second

// Server is one running etcd server. Its methods are safe for concurrent
// use.
type Server struct {
	bin        string
	dataDir    string
	logPath    string
	clientPort int
	peerPort   int
	extra      []string // more arguments

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil when stopped
	done chan struct{} // closed when cmd has exited
}

// Start starts an etcd server for the test and waits until it is healthy.
// The server is killed when the test ends. Its output goes to a file in
// the test's temporary directory, whose end is quoted when the server
// fails to start.
func Start(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	s, err := Launch(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after t.TempDir's own cleanup, so it runs before it: the
	// server stops before its directory is removed.
	t.Cleanup(s.Stop)
	return s
}

// Launch starts an etcd server with its data and its output in dir, on
// free loopback ports, and waits until it is healthy; extra are more
// arguments for etcd (such as --auto-compaction-retention). It is Start
// for programs that are not tests (the fleet simulator): the caller stops
// the server.
func Launch(dir string, extra ...string) (*Server, error) {
	bin, err := binary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("etcdtest: %v", err)
	}
	s := &Server{
		bin:     bin,
		dataDir: filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "etcd.log"),
		extra:   extra,
	}
	for attempt := 1; ; attempt++ {
		if s.clientPort, s.peerPort, err = freePorts(); err != nil {
			return nil, fmt.Errorf("etcdtest: no free loopback port for etcd: %v", err)
		}
		err = s.start()
		if err == nil {
			return s, nil
		}
		// Another process may have taken a port between our choosing it
		// and etcd binding it: try other ports, from a fresh data dir.
		if attempt < 3 && strings.Contains(err.Error(), "address already in use") {
			_ = os.RemoveAll(s.dataDir)
			continue
		}
		return nil, err
	}
}

// binary finds the etcd binary.
func binary() (string, error) {
	if p := os.Getenv("ETCD_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("etcd not found at $ETCD_PATH=%s (%v); `make test` installs it (apt-get install -y etcd-server), or unset ETCD_PATH to use etcd from PATH", p, err)
		}
		return p, nil
	}
	p, err := exec.LookPath("etcd")
	if err != nil {
		return "", errors.New("etcd not found in PATH (set ETCD_PATH to its binary to use another one); `make test` installs it (apt-get install -y etcd-server)")
	}
	return p, nil
}

// freePorts returns two distinct loopback ports that were free a moment
// ago.
func freePorts() (int, int, error) {
	a, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer a.Close()
	b, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	return a.Addr().(*net.TCPAddr).Port, b.Addr().(*net.TCPAddr).Port, nil
}

// Endpoint returns the server's client URL, http://127.0.0.1:port. It
// stays the same across Restart.
func (s *Server) Endpoint() string {
	return "http://127.0.0.1:" + strconv.Itoa(s.clientPort)
}

// DataDir returns the server's data directory.
func (s *Server) DataDir() string { return s.dataDir }

// PID returns the server's process id, or 0 when it is stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop kills the server (SIGKILL, as a crash would) and waits for it to
// exit. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.done = nil, nil
}

// Restart stops the server if it runs, then starts it again with the same
// data directory and ports, and waits until it is healthy.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// StartAgain is Restart for programs that are not tests.
func (s *Server) StartAgain() error { return s.start() }

// start (re)starts the server and waits until it is healthy; on failure
// the server is stopped.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	peer := "http://127.0.0.1:" + strconv.Itoa(s.peerPort)
	client := s.Endpoint()
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("etcdtest: %v", err)
	}
	fmt.Fprintf(log, "--- %s: starting etcd\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(s.bin,
		"--name", "n1",
		"--data-dir", s.dataDir,
		"--listen-client-urls", client,
		"--advertise-client-urls", client,
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", "n1="+peer,
		"--heartbeat-interval", "10",
		"--election-timeout", "100",
		// etcd 3.4's default logger (capnslog) ignores --log-level for
		// raft's messages; zap honours it.
		"--logger", "zap",
		"--log-outputs", "stderr",
		"--log-level", "error",
	)
	cmd.Args = append(cmd.Args, s.extra...)
	cmd.Env = environ()
	cmd.Stdout, cmd.Stderr = log, log
	err = cmd.Start()
	_ = log.Close() // the child has its own copy
	if err != nil {
		return fmt.Errorf("etcdtest: cannot start %s: %v", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	if err := s.waitHealthy(done); err != nil {
		s.stopLocked()
		return fmt.Errorf("etcdtest: %v; etcd's output (%s) ends with:\n%s", err, s.logPath, s.tail())
	}
	return nil
}

// environ is the test's environment without the ETCD_ variables, which
// etcd would read as settings, but for ETCD_UNSUPPORTED_ARCH, which some
// platforms need.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ETCD_") && !strings.HasPrefix(kv, "ETCD_UNSUPPORTED_ARCH=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// waitHealthy waits until the server's /health says it is healthy, or it
// exits, or healthTimeout passes.
func (s *Server) waitHealthy(exited <-chan struct{}) error {
	deadline := time.Now().Add(healthTimeout)
	var last error
	for {
		if last = Health(s.Endpoint()); last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("etcd exited at start (%s)", s.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("etcd at %s is not healthy after %s (%v)", s.Endpoint(), healthTimeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Health asks the etcd server at endpoint whether it is healthy: nil when
// its /health reports "health":"true", else why not.
func Health(endpoint string) error {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(endpoint + "/health")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return err
	}
	var h struct {
		Health string `json:"health"`
	}
	if err := json.Unmarshal(body, &h); err != nil || h.Health != "true" {
		return fmt.Errorf("GET %s/health: %s %s", endpoint, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// tail returns the end of etcd's output.
func (s *Server) tail() string {
	const max = 4096
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read it: %v)", err)
	}
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
