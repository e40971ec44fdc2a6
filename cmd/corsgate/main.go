// Command corsgate is a lura API gateway with the corsgate CORS plugin.
//
// It runs a KrakenD v3 JSON configuration unchanged, with CORS handled by
// the security/cors namespace:
//
//	corsgate run -c FILE [-d] [-p PORT] [--admin-listen ADDR] [--no-watch]
//	                                      run the gateway
//	corsgate check -c FILE [--strict]     validate a configuration and exit
//	corsgate explain -c FILE --origin O --method M --path P [--header H]... [--credentials]
//	                                      say what the gateway does with a request, and why
//	                                      (exit 1 when the browser would block it)
//	corsgate playground [--listen ADDR] [--target URL]
//	                                      serve a CORS test page for a gateway
//	corsgate config get|put|validate|history|rollback|reset [--admin URL]
//	                                      change CORS on a running gateway
//	corsgate version                      print the versions
//
// Exit status is 0 on success, 1 when the configuration is invalid or the
// gateway cannot start, and 2 on a usage error. corsgate explain exits
// with 0 when the browser allows the request, 1 when it would block it,
// and 2 without a verdict (a usage error, a malformed request, a
// configuration that does not load).
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `corsgate: a lura API gateway with the corsgate CORS plugin

Usage:
  corsgate run -c FILE [-d] [-p PORT] [--admin-listen ADDR] [--state-dir DIR]
               [--replica-id NAME] [--no-watch]
                                        run the gateway from a KrakenD v3 JSON config
  corsgate check -c FILE [--strict]     validate the config (JSON, lura and CORS) and exit;
                                        --strict fails on warnings too
  corsgate explain -c FILE --origin O --method M --path P [--header H]... [--credentials]
                   [--file-only | --admin URL] [--state-dir DIR]
                                        say what the gateway does with that request and why, with
                                        the run-time layer it last applied: a few lines on a terminal,
                                        else JSON (--format text|json); exit 1 when the browser
                                        would block it
  corsgate explain -c FILE --har FILE [--gateway URL] [--format text|json]
                                        the same for every cross-origin request of a HAR export
  corsgate playground [--listen 127.0.0.1:8099] [--target http://localhost:8080]
                                        serve a CORS test page (its own origin) that runs
                                        fetch() against the gateway and shows its explanations
  corsgate config get|put|drop|validate|diff|export|history|rollback|reset|fleet [--admin URL]
                                        read and change the CORS settings of a running
                                        gateway through its admin API
  corsgate version                      print corsgate's and its libraries' versions

Run 'corsgate COMMAND -h' for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return runCommand(args[1:], stdout, stderr)
	case "check":
		return checkCommand(args[1:], stdout, stderr)
	case "explain":
		return explainCommand(args[1:], stdout, stderr)
	case "playground":
		return playgroundCommand(args[1:], stdout, stderr)
	case "config":
		return configCommand(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		return versionCommand(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "corsgate: unknown command %q\n\n%s", args[0], usage)
	return 2
}
