package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/corsgate/corsgate/schema"
)

// Document is the whole CORS configuration of a gateway as plain data: the
// service-level block and the endpoints' own blocks. It is what Compile-
// Document takes, whatever it was read from (a lura configuration file,
// or JSON sent to the gateway at run time).
type Document struct {
	// Service is the service-level block, or nil when there is none.
	Service *Block `json:"service"`
	// Endpoints holds the endpoints' own blocks by endpoint key: the
	// method and the path as written in the configuration, such as
	// "GET /users/{id}". An endpoint without a block inherits the service
	// block as it is.
	Endpoints map[string]*Block `json:"endpoints,omitempty"`
	// Paths gives the JSON path of each block in the source it was read
	// from, for messages: "" for the service block, the endpoint key for
	// the others. A block without an entry is named service or
	// endpoints["GET /users/{id}"].
	Paths map[string]string `json:"-"`
	// Sources gives, by scope ("" for the service block, the endpoint key
	// for the others) and key, where a key's value comes from; a key
	// without an entry comes from the configuration file. The run-time
	// state fills it for the keys of its layer.
	Sources map[string]map[string]Source `json:"-"`
}

// Path returns the JSON path of the block of scope ("" for the service).
func (d *Document) Path(scope string) string {
	if p, ok := d.Paths[scope]; ok {
		return p
	}
	if scope == "" {
		return "service"
	}
	return schema.Path("endpoints", scope)
}

// Clone returns a copy of d that shares no block with it.
func (d *Document) Clone() *Document {
	if d == nil {
		return nil
	}
	c := &Document{Service: d.Service.Clone(), Paths: maps.Clone(d.Paths)}
	if d.Sources != nil {
		c.Sources = make(map[string]map[string]Source, len(d.Sources))
		for k, v := range d.Sources {
			c.Sources[k] = maps.Clone(v)
		}
	}
	if d.Endpoints != nil {
		c.Endpoints = make(map[string]*Block, len(d.Endpoints))
		for k, b := range d.Endpoints {
			c.Endpoints[k] = b.Clone()
		}
	}
	return c
}

// Endpoint describes one endpoint of the gateway to CompileDocument.
type Endpoint struct {
	// Key is the method and the path as written: "GET /users/{id}".
	Key string
	// Method is the endpoint's method, upper case.
	Method string
	// Served lists the methods the gateway serves on the endpoint's path;
	// it is the default allow_methods of the endpoint's own block.
	Served []string
}

// Scoped is the policy of an endpoint with its own block.
type Scoped struct {
	// Policy is the endpoint's policy (its block merged over the service
	// block), or nil when the endpoint is exempt.
	Policy *Policy
	// Exempt reports disable: true.
	Exempt bool
	// Own lists the keys the endpoint's block sets.
	Own []string
}

// Set is a Document compiled for a gateway's endpoints.
type Set struct {
	// Service is the service-level policy, or nil.
	Service *Policy
	// Endpoints holds the policies of the endpoints with their own block,
	// by endpoint key.
	Endpoints map[string]*Scoped
	// Warnings lists what is valid but risky or likely a mistake.
	Warnings Errors
}

// ServiceScope is how reasons name the service-level policy.
const ServiceScope = "the service-level policy"

// CompileDocument validates doc against the gateway's endpoints and
// compiles its policies. When anything is wrong it returns every problem,
// as Errors, and no Set.
func CompileDocument(doc *Document, endpoints []Endpoint) (*Set, error) {
	set := &Set{Endpoints: map[string]*Scoped{}}
	var errs Errors
	report := func(ps []problem, base, endpoint string, inherited func(key string) string) {
		for _, p := range ps {
			e := p.at(base, endpoint)
			if inherited != nil {
				e.Message += inherited(p.key)
			}
			if p.warn {
				set.Warnings = append(set.Warnings, e)
			} else {
				errs = append(errs, e)
			}
		}
	}

	servicePath := doc.Path("")
	var serviceOK bool
	if doc.Service != nil {
		v, ps := parseValues(doc.Service, ServiceLevel, adviceFor(doc.Service))
		ps = append(ps, checkCombinations(doc.Service, &v, nil)...)
		report(ps, servicePath, "", nil)
		serviceOK = !slices.ContainsFunc(ps, isError)
		if serviceOK {
			set.Service = build(doc.Service, &v, ServiceScope, keyOrigins(doc, "", nil, doc.Service.Keys()))
			if set.Service.ReflectsAnyOriginWithCredentials() {
				set.Warnings = append(set.Warnings, Error{Path: schema.Path(servicePath, "allow_any_origin_with_credentials_unsafe"),
					Message: "allow_any_origin_with_credentials_unsafe is on at the service level: every website can send credentialed requests and read the answers"})
			}
		}
	}

	byKey := map[string]Endpoint{}
	for _, ep := range endpoints {
		byKey[ep.Key] = ep
	}
	keys := make([]string, 0, len(doc.Endpoints))
	for k := range doc.Endpoints {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(doc.Path(a), doc.Path(b)) })
	for _, key := range keys {
		block := doc.Endpoints[key]
		base := doc.Path(key)
		ep, ok := byKey[key]
		if !ok {
			errs = append(errs, Error{Path: base, Endpoint: key, Message: fmt.Sprintf("no endpoint %s in the gateway; an endpoint block needs the method and the path as the configuration writes them, such as %q", key, exampleKey(endpoints))})
			continue
		}
		if block == nil {
			block = &Block{}
		}
		own := block.Keys()
		merged := Merge(doc.Service, block)
		// The corrections of the block's values must hold in the policy
		// it makes, with the keys it inherits.
		_, ps := parseValues(block, EndpointLevel, adviceFor(&merged))
		report(ps, base, key, nil)
		if len(ps) > 0 {
			continue
		}
		if block.Exempt() {
			set.Endpoints[key] = &Scoped{Exempt: true, Own: own}
			continue
		}

		if len(merged.AllowMethods) == 0 {
			merged.AllowMethods = ep.Served
		}
		mv, _ := parseValues(&merged, EndpointLevel, adviceFor(&merged))
		var combos []problem
		for _, p := range checkCombinations(&merged, &mv, nil) {
			// A problem that comes only from inherited keys was reported
			// at the service level already.
			if slices.ContainsFunc(append(slices.Clone(p.rule.needs), p.rule.also...), func(k string) bool { return slices.Contains(own, k) }) {
				combos = append(combos, p)
			}
		}
		inherited := func(key string) string {
			if key == "" || slices.Contains(own, key) || !slices.Contains(doc.Service.Keys(), key) {
				return ""
			}
			return fmt.Sprintf(" (%s is inherited from %s)", key, schema.Path(servicePath, key))
		}
		report(combos, base, key, inherited)
		if !slices.Contains(mv.methods, ep.Method) && ep.Method != "OPTIONS" {
			p := problem{key: "allow_methods", index: -1, msg: ownMethodMessage(ep, mv.methods, slices.Contains(own, "allow_methods"), servicePath)}
			combos = append(combos, p)
			errs = append(errs, p.at(base, key))
		}
		if slices.ContainsFunc(combos, isError) || (doc.Service != nil && !serviceOK) {
			continue
		}
		p := build(&merged, &mv, key, keyOrigins(doc, key, own, doc.Service.Keys()))
		set.Endpoints[key] = &Scoped{Policy: p, Own: own}
		if p.ReflectsAnyOriginWithCredentials() && slices.Contains(own, "allow_any_origin_with_credentials_unsafe") {
			set.Warnings = append(set.Warnings, Error{Path: schema.Path(base, "allow_any_origin_with_credentials_unsafe"), Endpoint: key,
				Message: "allow_any_origin_with_credentials_unsafe is on for " + key + ": every website can send credentialed requests to it and read the answers"})
		}
	}

	// Endpoints without a block of their own use the service methods.
	if set.Service != nil {
		for _, ep := range endpoints {
			if _, own := doc.Endpoints[ep.Key]; own || ep.Method == "OPTIONS" || set.Service.AllowsMethod(ep.Method) {
				continue
			}
			set.Warnings = append(set.Warnings, Error{
				Path:     schema.Path(servicePath, "allow_methods"),
				Endpoint: ep.Key,
				Message:  serviceMethodMessage(ep, set.Service.Methods(), doc.Service.AllowMethods != nil),
			})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return set, nil
}

// ownMethodMessage explains an endpoint block whose allow_methods lacks the
// endpoint's own method.
func ownMethodMessage(ep Endpoint, methods []string, own bool, servicePath string) string {
	where := "set in the endpoint block; add it there"
	if !own {
		where = fmt.Sprintf("inherited from %s; set \"allow_methods\" in the endpoint block, for example %s", servicePath, jsonList(ep.Served))
	}
	return fmt.Sprintf("the endpoint's own method %s is not in allow_methods %s (%s), so every preflight for it would be refused",
		ep.Method, jsonList(methods), where)
}

// serviceMethodMessage explains an endpoint that inherits service methods
// lacking its own method.
func serviceMethodMessage(ep Endpoint, methods []string, set bool) string {
	list := "the service-level allow_methods " + jsonList(methods)
	if !set {
		list = "the service level's default allow_methods " + jsonList(methods) + " (the key is not set)"
	}
	return fmt.Sprintf("endpoint %s has no security/cors block of its own, so it uses %s, which lacks %s: browsers will refuse every cross-origin %s to it. Add %q to allow_methods here, or give the endpoint a block of its own with \"allow_methods\"; ignore this if only pages on the gateway's own origin call it",
		ep.Key, list, ep.Method, ep.Method, ep.Method)
}

func exampleKey(endpoints []Endpoint) string {
	if len(endpoints) > 0 {
		return endpoints[0].Key
	}
	return "GET /users/{id}"
}

func isError(p problem) bool { return !p.warn }

// jsonList renders a list of strings as JSON, for messages.
func jsonList(list []string) string {
	b, _ := json.Marshal(list)
	return strings.ReplaceAll(string(b), `","`, `", "`)
}
