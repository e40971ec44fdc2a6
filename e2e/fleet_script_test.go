package e2e

// make fleet's script (scripts/fleet.sh), run as make runs it, on ports of
// the test's choosing: what it says when a port is taken, when a process
// of the fleet stops, and on Ctrl-C.

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fleetScript is a run of scripts/fleet.sh.
type fleetScript struct {
	cmd   *exec.Cmd
	out   syncBuffer // stdout and stderr, as a terminal shows them
	bin   string     // its BIN: the binaries, and fleet/ with the logs
	done  chan struct{}
	code  int
	ports map[string]int // FLEET_* variable: port
}

// fleetPorts picks free loopback ports for every variable of the script:
// the replicas' gateway and admin ports are three in a row.
func fleetPorts(t *testing.T) map[string]int {
	t.Helper()
	ports := map[string]int{}
	taken := map[int]bool{}
	for _, v := range []string{"FLEET_ETCD_PORT", "FLEET_ETCD_PEER_PORT", "FLEET_BACKEND_PORT", "FLEET_GATEWAY_PORT", "FLEET_ADMIN_PORT"} {
		n := 1
		if v == "FLEET_GATEWAY_PORT" || v == "FLEET_ADMIN_PORT" {
			n = 3
		}
		ports[v] = freeRun(t, n, taken)
	}
	return ports
}

// freeRun returns the first of n free loopback ports in a row, none in
// taken, and adds them to taken.
func freeRun(t *testing.T, n int, taken map[int]bool) int {
	t.Helper()
	for range 100 {
		first := freePort(t)
		ok := true
		for i := 0; i < n && ok; i++ {
			p := first + i
			if taken[p] || p > 65535 {
				ok = false
				break
			}
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			for i := range n {
				taken[first+i] = true
			}
			return first
		}
	}
	t.Fatalf("no %d free ports in a row", n)
	return 0
}

// startFleetScript runs scripts/fleet.sh with ports, in its own process
// group, with the binaries the tests built.
func startFleetScript(t *testing.T, ports map[string]int) *fleetScript {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	s := &fleetScript{bin: t.TempDir(), done: make(chan struct{}), ports: ports}
	for name, target := range map[string]string{"corsgate": binPath, "demo-backend": demoBackendPath} {
		if err := os.Symlink(target, filepath.Join(s.bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	s.cmd = exec.Command(filepath.Join(root, "scripts", "fleet.sh"))
	s.cmd.Dir = root
	s.cmd.Env = append(cleanEnv(), "BIN="+s.bin)
	for v, p := range ports {
		s.cmd.Env = append(s.cmd.Env, v+"="+strconv.Itoa(p))
	}
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := s.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			s.code = ee.ExitCode()
		}
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			// Whatever is left of the fleet, by its process group.
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
	return s
}

// wait waits for the script to exit and returns its status.
func (s *fleetScript) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(limit):
		t.Fatalf("scripts/fleet.sh still runs after %s; it printed:\n%s", limit, s.out.String())
		return 0
	}
}

// waitFor waits until the script has printed text.
func (s *fleetScript) waitFor(t *testing.T, text string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(s.out.String(), text) {
		select {
		case <-s.done:
			t.Fatalf("scripts/fleet.sh exited (%d) before printing %q:\n%s", s.code, text, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("scripts/fleet.sh did not print %q within %s:\n%s", text, limit, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// child returns the PID of the script's child process named comm.
func (s *fleetScript) child(t *testing.T, comm string) int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		data, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		text := string(data)
		open, end := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(text[end+1:])
		if text[open+1:end] == comm && len(fields) > 1 && fields[1] == strconv.Itoa(s.cmd.Process.Pid) {
			pid, _ := strconv.Atoi(strings.TrimSpace(text[:open]))
			return pid
		}
	}
	t.Fatalf("scripts/fleet.sh has no child %q", comm)
	return 0
}

// listening reports whether something accepts connections on port.
func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// A port in use is reported, with its variable and how to pick another,
// before anything is printed or started.
func TestFleetScriptRefusesPortsInUse(t *testing.T) {
	t.Parallel()
	ports := fleetPorts(t)
	var held []net.Listener
	for _, p := range []int{ports["FLEET_BACKEND_PORT"], ports["FLEET_GATEWAY_PORT"] + 1} {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
	}
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	s := startFleetScript(t, ports)
	if code := s.wait(t, 30*time.Second); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSuffix(s.out.String(), "\n"), "\n")
	want := []string{
		fmt.Sprintf("make fleet: port %d for the demo backend (FLEET_BACKEND_PORT) is in use on 127.0.0.1", ports["FLEET_BACKEND_PORT"]),
		fmt.Sprintf("make fleet: port %d for r2's gateway (FLEET_GATEWAY_PORT+1; FLEET_GATEWAY_PORT is %d) is in use on 127.0.0.1", ports["FLEET_GATEWAY_PORT"]+1, ports["FLEET_GATEWAY_PORT"]),
	}
	if len(lines) != len(want) {
		t.Fatalf("the script printed %d lines, want only the %d ports in use:\n%s", len(lines), len(want), s.out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n%s\nwant it to start with\n%s", i+1, lines[i], w)
		}
	}
	if !strings.Contains(lines[0], "; stop what listens there, or pick another port: make fleet FLEET_BACKEND_PORT=") ||
		!strings.Contains(lines[1], "make fleet FLEET_GATEWAY_PORT=") {
		t.Errorf("the lines do not say how to pick another port:\n%s", s.out.String())
	}
	if _, err := os.Stat(filepath.Join(s.bin, "fleet")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bin/fleet was made (or kept) although nothing was to start: %v", err)
	}
}

// A process of the fleet that stops is named, with how it stopped and the
// end of its log, and the others are stopped; Ctrl-C stops everything,
// quietly, with status 0.
func TestFleetScriptStops(t *testing.T) {
	t.Parallel()
	ports := fleetPorts(t)
	const ready = "Ctrl-C stops etcd, the backend and the replicas."

	t.Run("a process stops", func(t *testing.T) {
		s := startFleetScript(t, ports)
		s.waitFor(t, ready, 60*time.Second)
		if err := syscall.Kill(s.child(t, "demo-backend"), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if code := s.wait(t, 30*time.Second); code != 1 {
			t.Errorf("exit status %d, want 1", code)
		}
		_, after, _ := strings.Cut(s.out.String(), ready+"\n")
		backend := ports["FLEET_BACKEND_PORT"]
		want := fmt.Sprintf("make fleet: the demo backend (127.0.0.1:%d) was killed by signal KILL; the last lines of %s:\n"+
			"  demo-backend: ", backend, filepath.Join(s.bin, "fleet", "backend.log"))
		if !strings.HasPrefix(after, want) || !strings.Contains(after, fmt.Sprintf("listening on http://127.0.0.1:%d\n", backend)) ||
			!strings.HasSuffix(after, "make fleet: stopping the others: etcd, r1, r2, r3\n") {
			t.Errorf("after the backend was killed, the script printed:\n%s\nwant it to start with\n%s", after, want)
		}
		for v, p := range ports {
			if listening(p) {
				t.Errorf("%s: port %d still listens after the script ended", v, p)
			}
		}
	})

	t.Run("Ctrl-C", func(t *testing.T) {
		s := startFleetScript(t, ports)
		s.waitFor(t, ready, 60*time.Second)
		// The replicas proxy to the backend of FLEET_BACKEND_PORT.
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/users", ports["FLEET_GATEWAY_PORT"]+2))
		if err != nil {
			t.Errorf("GET /users on r3: %v", err)
		} else if resp.Body.Close(); resp.StatusCode != 200 {
			t.Errorf("GET /users on r3: %s, want 200 from the demo backend", resp.Status)
		}
		if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if code := s.wait(t, 30*time.Second); code != 0 {
			t.Errorf("exit status %d after Ctrl-C, want 0", code)
		}
		if _, after, _ := strings.Cut(s.out.String(), ready+"\n"); after != "make fleet: stopped\n" {
			t.Errorf("after Ctrl-C the script printed:\n%s\nwant only: make fleet: stopped", after)
		}
		for v, p := range ports {
			if listening(p) {
				t.Errorf("%s: port %d still listens after Ctrl-C", v, p)
			}
		}
	})
}
