package plugin

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
)

type plainErr struct{}

func (plainErr) Error() string                { return "plain" }
func (plainErr) Headers() map[string][]string { return nil }

type statusErr struct{ plainErr }

func (statusErr) StatusCode() int { return 502 }

type encodingErr struct{ plainErr }

func (encodingErr) Encoding() string { return "application/problem+json" }

type bothErr struct{ plainErr }

func (bothErr) StatusCode() int  { return 503 }
func (bothErr) Encoding() string { return "text/plain" }

// lura asks an error for StatusCode and Encoding by type assertion: the
// wrapper with trimmed headers must answer exactly those the error
// answers, with the same values.
func TestWithHeadersKeepsWhatLuraReads(t *testing.T) {
	h := http.Header{"X-Upstream": {"down"}}
	for _, err := range []headersError{plainErr{}, statusErr{}, encodingErr{}, bothErr{}} {
		w := withHeaders(err, h)
		if !errors.Is(w, err) || w.Error() != err.Error() {
			t.Errorf("%T: the wrapper does not unwrap to the error, or says %q", err, w.Error())
		}
		if got := w.(headersError).Headers(); !reflect.DeepEqual(got, map[string][]string(h)) {
			t.Errorf("%T: Headers() = %v, want the trimmed %v", err, got, h)
		}
		ws, wHas := w.(interface{ StatusCode() int })
		es, eHas := err.(interface{ StatusCode() int })
		if wHas != eHas || (eHas && ws.StatusCode() != es.StatusCode()) {
			t.Errorf("%T: StatusCode kept %v, want %v", err, wHas, eHas)
		}
		we, wHas := w.(interface{ Encoding() string })
		ee, eHas := err.(interface{ Encoding() string })
		if wHas != eHas || (eHas && we.Encoding() != ee.Encoding()) {
			t.Errorf("%T: Encoding kept %v, want %v", err, wHas, eHas)
		}
	}
}
