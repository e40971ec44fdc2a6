package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/corsgate/corsgate/engine/core"
)

// A HAR file (HTTP Archive 1.2, what a browser's network panel exports)
// holds the requests a page made. HAR reads one and explains each request
// a page sent across origins, as Explain does for one request.

// har is the part of a HAR file that explaining needs.
type har struct {
	Log struct {
		Entries []harEntry `json:"entries"`
	} `json:"log"`
}

type harEntry struct {
	Started string `json:"startedDateTime"`
	Request struct {
		Method  string      `json:"method"`
		URL     string      `json:"url"`
		Headers []harHeader `json:"headers"`
		Cookies []any       `json:"cookies"`
	} `json:"request"`
	Response struct {
		Status  int         `json:"status"`
		Headers []harHeader `json:"headers"`
	} `json:"response"`
}

type harHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (h harEntry) header(list []harHeader, name string) string {
	for _, x := range list {
		if strings.EqualFold(x.Name, name) {
			return x.Value
		}
	}
	return ""
}

// HAREntry is the explanation of one request of a HAR file.
type HAREntry struct {
	// Entry is the request's position in the file, from 0.
	Entry  int    `json:"entry"`
	Method string `json:"method"`
	URL    string `json:"url"`
	// Recorded is what the browser saw when the file was recorded.
	Recorded Recorded `json:"recorded"`
	// Skipped says why the request is not explained (no Origin, a
	// preflight, another host); Explanation is nil then.
	Skipped     string       `json:"skipped,omitempty"`
	Explanation *Explanation `json:"explanation,omitempty"`
	// Changed says that the configuration now decides otherwise than the
	// answer recorded.
	Changed bool `json:"changed,omitempty"`
	// OriginFrom says where the origin was read: the request's Origin
	// header, or, for a request the browser blocked before sending it
	// (its recorded headers are provisional, without Origin), the Origin
	// of its preflight or the origin of its Referer.
	OriginFrom string `json:"origin_from,omitempty"`
}

// Recorded is the answer in the HAR file.
type Recorded struct {
	Status int `json:"status"`
	// AllowOrigin is the Access-Control-Allow-Origin the answer carried.
	AllowOrigin string `json:"access_control_allow_origin"`
	// Allowed says whether that answer let the page read it.
	Allowed bool `json:"allowed"`
}

// HARSummary counts the outcomes.
type HARSummary struct {
	Entries int `json:"entries"`
	// Omitted counts the requests past MaxHAREntries, not explained.
	Omitted   int `json:"omitted,omitempty"`
	Explained int `json:"explained"`
	Allowed   int `json:"allowed"`
	Refused   int `json:"refused"`
	Skipped   int `json:"skipped"`
	Changed   int `json:"changed"`
}

// HARReport is the explanation of a HAR file.
type HARReport struct {
	// Layer says which run-time layer was used (corsgate explain).
	Layer   *LayerUsed `json:"layer,omitempty"`
	Summary HARSummary `json:"summary"`
	Entries []HAREntry `json:"entries"`
}

// browserHeaders are request headers the browser sets itself, never the
// page's script: they never make a request need a preflight. The Fetch
// standard's forbidden request headers, and the headers browsers add.
var browserHeaders = map[string]bool{
	"accept-charset": true, "accept-encoding": true, "access-control-request-headers": true,
	"access-control-request-method": true, "connection": true, "content-length": true,
	"cookie": true, "cookie2": true, "date": true, "dnt": true, "expect": true, "host": true,
	"keep-alive": true, "origin": true, "referer": true, "te": true, "trailer": true,
	"transfer-encoding": true, "upgrade": true, "via": true, "user-agent": true,
	"priority": true, "pragma": true, "cache-control": true,
}

// pageHeaders lists the headers of a recorded request that the page set,
// leaving out the browser's and a Content-Type a form could send.
func pageHeaders(list []harHeader) []string {
	var out []string
	for _, h := range list {
		n := strings.ToLower(h.Name)
		switch {
		case strings.HasPrefix(n, ":"), strings.HasPrefix(n, "sec-"), strings.HasPrefix(n, "proxy-"), browserHeaders[n]:
			continue
		case n == "content-type":
			if mt, _, err := mime.ParseMediaType(h.Value); err == nil && (mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" || mt == "text/plain") {
				continue // safelisted with this value
			}
		}
		out = append(out, h.Name)
	}
	return out
}

// MaxHAREntries bounds the requests of a HAR file that HAR explains, and
// so the size of its answer; the others are counted as omitted.
const MaxHAREntries = 1000

// HAR reads a HAR file from r and explains, with snapshot s, every request
// in it that a page sent with an Origin header. gateway, when not empty,
// keeps only the requests to that origin (such as https://api.example.com).
// Preflights (OPTIONS with Access-Control-Request-Method) are not explained
// on their own: the request they precede is. A file that is not a HAR is an
// error that says so.
func HAR(s *core.Snapshot, r io.Reader, gateway string) (HARReport, error) {
	var h har
	dec := json.NewDecoder(io.LimitReader(r, 256<<20))
	if err := dec.Decode(&h); err != nil {
		return HARReport{}, fmt.Errorf("not a HAR file (%w): export one from the browser's network panel (\"Save all as HAR\")", err)
	}
	if h.Log.Entries == nil {
		return HARReport{}, fmt.Errorf("not a HAR file: it has no log.entries; export one from the browser's network panel (\"Save all as HAR\")")
	}
	gateway = strings.TrimSuffix(gateway, "/")
	// The Origin of each preflight, by URL and method: a request blocked
	// at its preflight is recorded without its Origin.
	preflightOrigin := map[string]string{}
	for _, e := range h.Log.Entries {
		if m := e.header(e.Request.Headers, "Access-Control-Request-Method"); e.Request.Method == http.MethodOptions && m != "" {
			if o := e.header(e.Request.Headers, "Origin"); o != "" {
				preflightOrigin[m+" "+e.Request.URL] = o
			}
		}
	}
	rep := HARReport{Entries: []HAREntry{}}
	for i, e := range h.Log.Entries {
		if i == MaxHAREntries {
			rep.Summary.Omitted = len(h.Log.Entries) - i
			break
		}
		out := HAREntry{Entry: i, Method: e.Request.Method, URL: e.Request.URL}
		out.Recorded = Recorded{Status: e.Response.Status, AllowOrigin: e.header(e.Response.Headers, "Access-Control-Allow-Origin")}
		originHdr := e.header(e.Request.Headers, "Origin")
		if originHdr != "" {
			out.OriginFrom = "header"
		} else if o := preflightOrigin[e.Request.Method+" "+e.Request.URL]; o != "" {
			originHdr, out.OriginFrom = o, "preflight"
		} else if o := crossOriginReferer(e.header(e.Request.Headers, "Referer"), e.Request.URL); o != "" && e.Response.Status == 0 {
			// Only for a request the browser blocked: an image, a script
			// or a navigation has a Referer too, and no CORS.
			originHdr, out.OriginFrom = o, "referer"
		}
		out.Recorded.Allowed = out.Recorded.AllowOrigin != "" && (out.Recorded.AllowOrigin == "*" || out.Recorded.AllowOrigin == originHdr)
		u, err := url.Parse(e.Request.URL)
		switch {
		case err != nil || u.Host == "":
			out.Skipped = fmt.Sprintf("the URL %q cannot be read", e.Request.URL)
		case u.Scheme == "ws" || u.Scheme == "wss":
			out.Skipped = "a WebSocket: browsers apply no CORS to it; the gateway checks its Origin at the upgrade (websocket_origins), and logs a refusal"
		case originHdr == "":
			out.Skipped = "no Origin header (nor a preflight or a Referer of another origin): a same-origin request or a navigation, to which CORS does not apply"
		case gateway != "" && !strings.EqualFold(u.Scheme+"://"+u.Host, gateway):
			out.Skipped = "not a request to " + gateway
		case e.Request.Method == http.MethodOptions && e.header(e.Request.Headers, "Access-Control-Request-Method") != "":
			out.Skipped = "a preflight: the request it precedes is explained in its own entry"
		case strings.EqualFold(u.Scheme+"://"+u.Host, originHdr):
			out.Skipped = "same origin as the page: CORS does not apply"
		}
		if out.Skipped == "" {
			req := Request{
				Origin:      originHdr,
				Method:      e.Request.Method,
				Path:        u.EscapedPath(),
				Headers:     pageHeaders(e.Request.Headers),
				Credentials: len(e.Request.Cookies) > 0 || e.header(e.Request.Headers, "Cookie") != "" || e.header(e.Request.Headers, "Authorization") != "",
			}
			ex, err := Explain(s, req)
			if err != nil {
				out.Skipped = "the request cannot be explained: " + err.Error()
			} else {
				out.Explanation = &ex
				rep.Summary.Explained++
				allowed := ex.Verdict.Actual == "allowed"
				if allowed {
					rep.Summary.Allowed++
				} else {
					rep.Summary.Refused++
				}
				if allowed != out.Recorded.Allowed {
					out.Changed = true
					rep.Summary.Changed++
				}
			}
		}
		if out.Skipped != "" {
			rep.Summary.Skipped++
		}
		rep.Entries = append(rep.Entries, out)
	}
	rep.Summary.Entries = len(rep.Entries)
	return rep, nil
}

// crossOriginReferer is the origin of referer when it differs from the
// origin of target, else "".
func crossOriginReferer(referer, target string) string {
	r, err1 := url.Parse(referer)
	t, err2 := url.Parse(target)
	if err1 != nil || err2 != nil || r.Host == "" || (r.Scheme != "http" && r.Scheme != "https") {
		return ""
	}
	o := r.Scheme + "://" + r.Host
	if strings.EqualFold(o, t.Scheme+"://"+t.Host) {
		return ""
	}
	return o
}

// Line is the entry in one line, for people: what the configuration does
// with the request and why, or why it is left out.
func (e HAREntry) Line() string {
	head := fmt.Sprintf("#%d %s %s", e.Entry, e.Method, e.URL)
	if e.Explanation == nil {
		return head + ": skipped, " + e.Skipped
	}
	ex := e.Explanation
	from := ex.Request.Origin
	if e.OriginFrom == "preflight" || e.OriginFrom == "referer" {
		from += " (from its " + e.OriginFrom + ": the browser blocked it before sending it)"
	}
	line := fmt.Sprintf("%s from %s: %s", head, from, ex.Verdict.Actual)
	if ex.Verdict.Actual != "allowed" && ex.Verdict.Reason != "" {
		line += " (" + ex.Verdict.Reason + ")"
		if more := ex.Verdict.Failures; len(more) > 1 {
			var names []string
			for _, f := range more[1:] {
				names = append(names, f.label())
			}
			line += "; also failing: " + strings.Join(names, ", ")
		}
	}
	recorded := "refused"
	if e.Recorded.Allowed {
		recorded = "allowed"
	}
	if e.Changed {
		line += fmt.Sprintf("; recorded %s then, so the configuration decides otherwise now", recorded)
	}
	return line
}
