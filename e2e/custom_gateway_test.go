package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsgate/corsgate/internal/testwait"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// The custom gateway of docs/custom-gateway.md builds, says how to run it
// when the argument is missing (instead of panicking), refuses an invalid
// CORS configuration, serves CORS with a valid one, and applies an edit of
// the file's CORS settings while it runs.
func TestCustomGatewayExample(t *testing.T) {
	t.Parallel()
	bin := customGatewayPath
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String()
	}
	if code, out := run(); code != 2 || !strings.Contains(out, "usage:") || strings.Contains(out, "panic") {
		t.Errorf("without an argument: exit %d\n%s", code, out)
	}
	bad := plugintest.WriteFile(t, plugintest.Gateway{CORS: plugintest.Block{"allow_origins": []any{"*"}, "allow_credentials": true},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/a", nil)}}.JSON(8080))
	if code, out := run(bad); code != 1 || !strings.Contains(out, `extra_config["security/cors"].allow_origins[0]`) {
		t.Errorf("an invalid configuration: exit %d\n%s", code, out)
	}

	port := freePort(t)
	good := plugintest.WriteFile(t, plugintest.Gateway{CORS: plugintest.Block{"allow_origins": []any{originApp}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/a", nil)}}.JSON(port))
	var logs syncBuffer
	cmd := exec.Command(bin, good)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	allowed := func(origin string) (string, error) {
		req, _ := http.NewRequest(http.MethodOptions, url+"/a", nil)
		req.Header = plugintest.Preflight(origin, "GET")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		return resp.Header.Get("Access-Control-Allow-Origin"), nil
	}
	testwait.For(t, "the custom gateway answering", 15*time.Second, func() bool {
		_, err := allowed(originApp)
		return err == nil
	})
	if got, _ := allowed(originApp); got != originApp {
		t.Errorf("preflight from %s: Access-Control-Allow-Origin %q\n%s", originApp, got, logs.String())
	}

	edited := plugintest.Gateway{CORS: plugintest.Block{"allow_origins": []any{originAdmin}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/a", nil)}}.JSON(port)
	data, _ := json.Marshal(edited)
	if err := os.WriteFile(good, data, 0o600); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the edit of the file applied", 10*time.Second, func() bool {
		got, _ := allowed(originAdmin)
		return got == originAdmin
	})
	if got, _ := allowed(originApp); got != "" {
		t.Errorf("after the edit, %s still gets %q", originApp, got)
	}
}
