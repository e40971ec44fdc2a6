package apierror_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/corsgate/corsgate/internal/apierror"
)

func TestCode(t *testing.T) {
	for status, want := range map[int]string{
		400: "bad_request", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
		412: "precondition_failed", 413: "request_entity_too_large", 415: "unsupported_media_type",
		428: "precondition_required", 500: "internal_error", 502: "bad_gateway", 503: "service_unavailable",
		599: "status_599",
	} {
		if got := apierror.Code(status); got != want {
			t.Errorf("Code(%d) = %q, want %q", status, got, want)
		}
	}
}

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	b := apierror.New(http.StatusBadRequest, "origin: not an origin")
	b.Errors = []apierror.Problem{{Path: "origin", Message: "not an origin"}}
	apierror.Write(w, http.StatusBadRequest, b, 5)
	if w.Code != 400 || w.Header().Get("Retry-After") != "5" || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["error"] != "bad_request" || got["reason"] != "origin: not an origin" || len(got["errors"].([]any)) != 1 || got["revision"] != nil {
		t.Errorf("body %s", w.Body)
	}
}
