package e2e

import (
	"context"
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

// make run as a newcomer runs it, on ports of the test's choosing: a
// backend port in use stops it at once, before the password is printed,
// with the variable to change; another BACKEND_PORT is the one the
// gateway proxies to.
func TestMakeRunBackendPort(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed: apt-get install -y make")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	makeRun := func(ctx context.Context, backend, port, admin int) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "make", "-s", "run", "BIN="+bin, "BACKEND_PORT="+strconv.Itoa(backend), "PORT="+strconv.Itoa(port), "ADMIN_PORT="+strconv.Itoa(admin))
		cmd.Dir = root
		cmd.Env = cleanEnv()
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		return cmd
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := makeRun(ctx, busyPort, freePort(t), freePort(t)).CombinedOutput()
	text := string(out)
	if err == nil || !strings.Contains(text, "make run: the demo backend stopped at once") || !strings.Contains(text, "is 127.0.0.1:"+strconv.Itoa(busyPort)+" in use? Pick another port: make run BACKEND_PORT=") {
		t.Errorf("make run with the backend's port in use: %v\n%s", err, text)
	}
	if strings.Contains(text, "password") {
		t.Errorf("make run printed a password before it stopped:\n%s", text)
	}

	backend, port, admin := freePort(t), freePort(t), freePort(t)
	cmd := makeRun(ctx, backend, port, admin)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/users")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-done:
			t.Fatalf("make run stopped:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway of make run did not answer 200 on /users through the backend on %d:\n%s", backend, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cfg, err := os.ReadFile(filepath.Join(bin, "run", "config.json"))
	if err != nil || !strings.Contains(string(cfg), "127.0.0.1:"+strconv.Itoa(backend)) || strings.Contains(string(cfg), "127.0.0.1:8000") {
		t.Errorf("bin/run/config.json does not point at the backend on %d: %v", backend, err)
	}
	if !strings.Contains(logs.String(), "demo-backend: ") || !strings.Contains(logs.String(), "GET /users") {
		t.Errorf("the request did not reach the demo backend:\n%s", logs.String())
	}
}
