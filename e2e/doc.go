// Package e2e holds the end-to-end and browser tests of corsgate.
//
// The package has no non-test code: everything lives in _test.go files. The
// tests build the real gateway binary once (go build ./cmd/corsgate into a
// temporary directory, from TestMain), write KrakenD v3 JSON configurations
// to per-test temporary directories, start "corsgate run -c FILE" on a free
// port of 127.0.0.1 and talk to it over real HTTP. The backends are
// in-process httptest servers bound to 127.0.0.1 that count every request
// they receive, so the tests can prove that a preflight never reaches them.
//
// What is covered:
//
//   - cors_test.go: preflights (allowed and denied, status, Allow-Origin,
//     Allow-Methods, Allow-Headers echo with any case, order, spacing and
//     repeated header lines, credentials, Max-Age, Vary), actual requests
//     from allowed, denied and absent origins, wildcard origins, a custom
//     options_success_status, router.auto_options next to CORS, a backend
//     that answers with its own CORS headers (no duplicated headers reach
//     the client), CORS headers on gateway 404 and 500 answers, debug
//     logging and the X-Cors-Reason header, and 200 concurrent requests
//     from several origins.
//   - cli_test.go: "corsgate check" on a valid configuration and on a set
//     of invalid ones (exit status 1 and the JSON path of the error on
//     stderr), "corsgate run" refusing an invalid configuration, and
//     "corsgate version".
//   - hostile_test.go: malformed and oversized requests over raw TCP
//     (Access-Control-Request-Headers of 64 KiB, 10,000 names, 10,000
//     lines, up to 1.5 MB; 500 Origin lines; bytes 0x80-0xff and control
//     bytes; an empty method; OPTIONS with a body): no panic, no 5xx, every
//     answer within 2s, the gateway's RSS (/proc/PID/status) grows by less
//     than 100 MiB, and a normal request still works; the measured figures
//     are logged (-v).
//   - browser_test.go: headless Chromium driven through chromedp runs
//     fetch() from a page on http://127.0.0.1:PORT against the gateway on
//     http://localhost:PORT2, so the browser's own CORS enforcement decides:
//     a credentialed request with a custom header (preflighted) succeeds,
//     a page on a disallowed origin gets a TypeError, only exposed headers
//     are readable, and a gateway 404 is readable by the page.
//
// How to run:
//
//	go test -race -count=1 ./e2e/
//
// Optional environment variables:
//
//   - CORSGATE_BIN: use this prebuilt binary instead of building one.
//   - CORSGATE_E2E_RACE=1: build the gateway with -race; a data race
//     reported in any gateway's output fails the test that started it
//     (slower: about 45s more on two cores).
//   - CORSGATE_E2E_SCREENSHOT_DIR: write the browser tests' screenshots
//     there instead of testout/screenshots/ at the repository's root
//     (which git ignores).
//
// The browser tests need Chromium. They look for CHROMIUM_PATH, then for
// chromium, chromium-browser and google-chrome in PATH, and fail (they are
// never skipped) when none is found; "make test" installs it with
// "apt-get install -y chromium". The whole package runs in well under two
// minutes on two cores once the Go build cache is warm.
package e2e
