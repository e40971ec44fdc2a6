package policy

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/engine/origin"
	"github.com/corsgate/corsgate/schema"
)

// offersValue matches the words with which a message offers a value to
// write ("did you mean X?", `write "X"`, `use "X"`): every such message
// must come with the Fix that writes it.
var offersValue = regexp.MustCompile(`did you mean|write "|use "`)

// TestCorpusSuggestionsAreAccepted applies every correction the validator
// suggests for the corpus (every message that offers a value has one, and
// says what it does), each one alone to the block as written, and
// judges the block again: the key it corrects (for a rename, both keys)
// has none of the problem left and no new one. A correction of a warning
// must not bring a new warning there either. This is what "the advice
// always works" means: check's next run does not refuse what its last run
// suggested.
func TestCorpusSuggestionsAreAccepted(t *testing.T) {
	fixes := 0
	for _, e := range corpus {
		t.Run(e.String(), func(t *testing.T) {
			_, warnings, errs := loadBlock(t, decodeEntry(t, e), e.level, e.base())
			for _, found := range []struct {
				warning bool
				list    Errors
			}{{false, errs}, {true, warnings}} {
				for _, p := range found.list {
					if offersValue.MatchString(p.Message) && p.Fix == nil {
						t.Errorf("%s: %q offers a value but has no Fix", p.Path, p.Message)
					}
					if p.Fix != nil && !namesFix(p.Message, p.Fix) {
						t.Errorf("%s: the Fix %s is not in the words of %q", p.Path, fixText(p.Fix), p.Message)
					}
					if p.Fix == nil {
						continue
					}
					fixes++
					checkFix(t, func() any { return decodeEntry(t, e) }, e.level, e.base(), p, found.warning, errs, warnings)
				}
			}
		})
	}
	if fixes < 60 {
		t.Errorf("only %d corrections in the corpus; the test proves little", fixes)
	}
}

// quotedExpr finds the expressions a message quotes.
var quotedExpr = regexp.MustCompile(`"\^(?:[^"\\]|\\.)*\$"`)

// Every expression a corpus message quotes, but the one it is about, is
// one the block would accept without a warning where the message sits:
// with credentials, none that trusts every host under a domain. This is
// the advice in examples ("such as ...") as well as in suggestions.
func TestCorpusQuotesNoRefusedExpression(t *testing.T) {
	quoted := 0
	for _, e := range corpus {
		t.Run(e.String(), func(t *testing.T) {
			raw := decodeEntry(t, e)
			m, _ := raw.(map[string]any)
			creds := m["allow_credentials"] == true && m["allow_origins_regex_unsafe"] != true
			_, warnings, errs := loadBlock(t, raw, e.level, e.base())
			for _, p := range append(errs, warnings...) {
				for _, q := range quotedExpr.FindAllString(p.Message, -1) {
					if q == p.Value {
						continue
					}
					quoted++
					expr, err := strconv.Unquote(q)
					if err != nil {
						t.Fatalf("%s: %s: %v", p.Path, q, err)
					}
					re, err := origin.CompileRegexp(expr)
					if err != nil {
						t.Errorf("%s: %q quotes %s, which is refused: %v", p.Path, p.Message, q, err)
						continue
					}
					if leak := origin.ProbeRegexp(re); leak != nil && (creds || !leak.Subdomain) {
						t.Errorf("%s: %q quotes %s, which also matches %s", p.Path, p.Message, q, leak.Origin)
					}
				}
			}
		})
	}
	if quoted < 20 {
		t.Errorf("only %d expressions quoted in the corpus's messages; the test proves little", quoted)
	}
}

// namesFix reports whether msg says what fix does: the value it writes,
// the key it renames to, or that it removes.
func namesFix(msg string, fix *Fix) bool {
	switch fix.Op {
	case schema.FixReplace:
		return strings.Contains(msg, string(fix.Value))
	case schema.FixRename:
		return strings.Contains(msg, strconv.Quote(fix.Key))
	}
	return strings.Contains(strings.ToLower(msg), "remove")
}

// checkFix applies p.Fix to the block that block returns (decoded anew
// on each call), written at level at base, and judges it again; errs and
// warnings are the verdict on the block as written.
func checkFix(t testing.TB, block func() any, level Level, base string, p Error, warning bool, errs, warnings Errors) {
	t.Helper()
	rel, ok := strings.CutPrefix(p.Path, base)
	if !ok {
		t.Fatalf("%s is not below the block %s", p.Path, base)
	}
	fixed, err := p.Fix.Apply(block(), rel)
	if err != nil {
		t.Fatalf("%s: the fix %s cannot be applied: %v", p.Path, fixText(p.Fix), err)
	}
	_, warnings2, errs2 := loadBlock(t, fixed, level, base)
	keys := []string{keyPath(t, base, rel)}
	if p.Fix.Op == schema.FixRename {
		keys = append(keys, schema.Path(base, p.Fix.Key))
	}
	after, _ := json.Marshal(fixed)
	for _, k := range keys {
		// The problem corrected is gone: what is left at the key is what
		// was there before, but that.
		before := under(errs, k)
		if !warning {
			before = without(before, p.Value)
		}
		if extra := notIn(under(errs2, k), before); len(extra) > 0 {
			t.Errorf("%s: after the fix %s of %q the block %s is refused at %s for %v:\n%v", p.Path, fixText(p.Fix), p.Message, after, k, extra, errs2)
		}
		if warning {
			if extra := notIn(under(warnings2, k), without(under(warnings, k), p.Value)); len(extra) > 0 {
				t.Errorf("%s: after the fix %s of the warning %q the block %s is warned about at %s for %v:\n%v", p.Path, fixText(p.Fix), p.Message, after, k, extra, warnings2)
			}
		}
	}
}

// keyPath is the path of the key of the block at base that the path
// base+rel is in.
func keyPath(t testing.TB, base, rel string) string {
	t.Helper()
	switch {
	case strings.HasPrefix(rel, `["`):
		q, err := strconv.QuotedPrefix(rel[1:])
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		return base + rel[:1+len(q)+1]
	case strings.HasPrefix(rel, "."):
		end := strings.IndexAny(rel[1:], ".[")
		if end < 0 {
			return base + rel
		}
		return base + rel[:1+end]
	}
	t.Fatalf("%q names no key of the block", rel)
	return ""
}

// under lists the values of the problems at or below the path key.
func under(es Errors, key string) []string {
	var out []string
	for _, e := range es {
		if e.Path == key || strings.HasPrefix(e.Path, key+".") || strings.HasPrefix(e.Path, key+"[") {
			out = append(out, e.Value)
		}
	}
	return out
}

// without removes one v from list.
func without(list []string, v string) []string {
	if i := slices.Index(list, v); i >= 0 {
		return slices.Delete(slices.Clone(list), i, i+1)
	}
	return list
}

// notIn lists the items of list that are not in pool, as a multiset.
func notIn(list, pool []string) []string {
	var extra []string
	pool = slices.Clone(pool)
	for _, v := range list {
		if i := slices.Index(pool, v); i >= 0 {
			pool = slices.Delete(pool, i, i+1)
			continue
		}
		extra = append(extra, v)
	}
	return extra
}

func fixText(f *Fix) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// The hosts the messages about trusting every subdomain give as examples
// are accepted with credentials, without a warning, in both forms and
// with a port.
func TestSubdomainAdviceExamples(t *testing.T) {
	tests := []struct{ scheme, domain, port string }{
		{"https", "example.com", ""},
		{"https", "preview.example.com", ""},
		{"https", "acme-shop.co.uk", "8443"},
		{"http", "localhost", "3000"},
	}
	for _, tc := range tests {
		exact, expr := trustedExamples(tc.scheme, tc.domain, tc.port)
		msg := subdomainAdvice(tc.scheme, tc.domain, tc.port)
		if !strings.Contains(msg, strconv.Quote(exact)) || !strings.Contains(msg, strconv.Quote(expr)) {
			t.Errorf("subdomainAdvice(%s, %s, %s) = %q does not give %q and %q", tc.scheme, tc.domain, tc.port, msg, exact, expr)
		}
		block := map[string]any{"allow_credentials": true, "allow_origins": []any{exact}, "allow_origins_regex": []any{expr}, "allow_headers": []any{"Content-Type"}}
		if _, warnings, errs := loadBlock(t, block, ServiceLevel, serviceBase); len(errs) > 0 || len(warnings) > 0 {
			t.Errorf("the examples %q and %q: errors %v, warnings %v", exact, expr, errs, warnings)
		}
	}
}

// An endpoint block's corrections hold in the policy it makes, with what
// it inherits: with allow_credentials: true from the service block, a
// misspelt wildcard origin or expression is not corrected into a wildcard
// the next run would refuse, while a plain misspelling is, and the
// corrected document compiles.
func TestEndpointAdviceHoldsWithInheritedKeys(t *testing.T) {
	service := `{"allow_credentials": true, "allow_origins": ["https://app.example.com"], "allow_headers": ["Content-Type"]}`
	tests := []struct {
		name, endpoint string
		at, msg        string
		fixed          bool // whether a Fix is offered, and then the corrected document compiles
	}{
		{"wildcard glued to the domain", `{"allow_origins": ["https://*example.com"]}`, ".allow_origins[0]", `"https://*.example.com", the form closest to it, cannot be combined with allow_credentials: true`, false},
		{"sloppy expression", `{"allow_origins_regex": ["https://.*example.com"]}`, ".allow_origins_regex[0]", `it would trust every host under example.com. With credentials that is refused in either form`, false},
		{"sloppy expression of one host", `{"allow_origins_regex": ["https://admin.example.com"]}`, ".allow_origins_regex[0]", `write "^https://admin\\.example\\.com$"`, true},
		{"origin with a path", `{"allow_origins": ["https://admin.example.com/login"]}`, ".allow_origins[0]", `did you mean "https://admin.example.com"?`, true},
		{"NULL", `{"allow_origins": ["https://admin.example.com", "NULL"]}`, ".allow_origins[1]", `"null" is refused with allow_credentials: true as well, so remove it`, true},
		{"NULL alone", `{"allow_origins": ["NULL"]}`, ".allow_origins[0]", `"null" is refused with allow_credentials: true as well: list the origins you trust exactly instead`, false},
	}
	ep := Endpoint{Key: "GET /a", Method: "GET", Served: []string{"GET"}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var svcRaw, epRaw any
			if err := json.Unmarshal([]byte(service), &svcRaw); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.endpoint), &epRaw); err != nil {
				t.Fatal(err)
			}
			compile := func(epRaw any) Errors {
				t.Helper()
				svc, errs := ParseBlock(svcRaw, ServiceLevel, serviceBase)
				b, errs2 := ParseBlock(epRaw, EndpointLevel, endpointBase)
				if len(errs)+len(errs2) > 0 {
					t.Fatalf("ParseBlock: %v %v", errs, errs2)
				}
				doc := &Document{Service: svc, Endpoints: map[string]*Block{ep.Key: b}, Paths: map[string]string{"": serviceBase, ep.Key: endpointBase}}
				_, err := CompileDocument(doc, []Endpoint{ep})
				if err == nil {
					return nil
				}
				return err.(Errors)
			}
			errs := compile(epRaw)
			if len(errs) != 1 || errs[0].Path != endpointBase+tc.at || !strings.Contains(errs[0].Message, tc.msg) {
				t.Fatalf("errors = %v\nwant one at %s containing %q", errs, endpointBase+tc.at, tc.msg)
			}
			if (errs[0].Fix != nil) != tc.fixed {
				t.Fatalf("Fix = %s, want one: %v", fixText(errs[0].Fix), tc.fixed)
			}
			if !tc.fixed {
				return
			}
			fixed, err := errs[0].Fix.Apply(epRaw, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if errs := compile(fixed); len(errs) > 0 {
				t.Errorf("after the fix %s: %v", fixText(errs[0].Fix), errs)
			}
		})
	}
}

// DurationText writes what max_age corrections suggest: Go's duration
// string without the zero units at its end, read back by ParseMaxAge as
// the same duration.
func TestDurationText(t *testing.T) {
	tests := []struct {
		seconds int64
		want    string
	}{
		{3600, "1h"}, {90, "1m30s"}, {60, "1m"}, {3660, "1h1m"}, {3605, "1h0m5s"}, {36000, "10h"},
		{0, "0s"}, {12, "12s"}, {-1, "-1s"}, {-3600, "-1h"}, {86400, "24h"}, {maxSeconds, "2562047h47m16s"},
	}
	for _, tc := range tests {
		got, ok := secondsText(tc.seconds)
		if !ok || got != tc.want {
			t.Errorf("secondsText(%d) = %q, %v; want %q", tc.seconds, got, ok, tc.want)
			continue
		}
		if d, err := ParseMaxAge(got); err != nil || int64(d.Seconds()) != tc.seconds {
			t.Errorf("ParseMaxAge(%q) = %v, %v; want %d seconds", got, d, err, tc.seconds)
		}
	}
	if got, ok := secondsText(maxSeconds + 1); ok {
		t.Errorf("secondsText(maxSeconds+1) = %q, want no duration", got)
	}
}

// A shape error's replacement or rename is only suggested when the block
// takes it at the key it writes: "true" for
// allow_any_origin_with_credentials_unsafe without credentials would be
// refused in turn, and so would allow_headers: true, so neither gets a
// "did you mean".
func TestShapeSuggestionsAreTried(t *testing.T) {
	tests := []struct {
		name, json, at string
		fix            string // the Fix as JSON, or "" for none
	}{
		{"kept", `{"allow_credentials": "true", "allow_origins": ["https://app.example.com"]}`, ".allow_credentials", `{"op":"replace","value":true}`},
		{"refused in turn", `{"allow_any_origin_with_credentials_unsafe": "true"}`, ".allow_any_origin_with_credentials_unsafe", ``},
		{"accepted with credentials", `{"allow_any_origin_with_credentials_unsafe": "true", "allow_credentials": true}`, ".allow_any_origin_with_credentials_unsafe", `{"op":"replace","value":true}`},
		{"status", `{"unmatched_status": "401"}`, ".unmatched_status", `{"op":"replace","value":401}`},
		{"rename", `{"allow_header": ["X-Api-Key"]}`, ".allow_header", `{"op":"rename","key":"allow_headers"}`},
		{"rename to a key that takes no such value", `{"allow_header": true}`, ".allow_header", ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var raw any
			if err := json.Unmarshal([]byte(tc.json), &raw); err != nil {
				t.Fatal(err)
			}
			_, errs := ParseBlock(raw, ServiceLevel, serviceBase)
			i := slices.IndexFunc(errs, func(e Error) bool { return e.Path == serviceBase+tc.at })
			if i < 0 {
				t.Fatalf("no error at %s: %v", tc.at, errs)
			}
			e := errs[i]
			if got := fixText(e.Fix); (e.Fix == nil) != (tc.fix == "") || (e.Fix != nil && got != tc.fix) {
				t.Errorf("Fix = %s, want %s", got, tc.fix)
			}
			if suggests := strings.Contains(e.Message, "did you mean"); suggests != (tc.fix != "") {
				t.Errorf("Message = %q; it should suggest a value exactly when there is a Fix", e.Message)
			}
		})
	}
}
