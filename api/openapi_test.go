package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// The contract between openapi.json and the handlers is checked from both ends:
// TestOpenAPIRoutes compares the document's operations with the routes slice, and
// every response any test in this package receives (env.do) is validated against the
// schema the document gives for its operation and status. TestMain then requires that
// every documented operation was seen succeeding at least once, so no part of the
// document goes unchecked.

// openAPI is the parsed document plus what the tests saw of it.
type openAPI struct {
	doc map[string]any
	mux *http.ServeMux // the routes, to find which operation served a request

	mu   sync.Mutex
	seen map[string]map[string]bool // "GET /api/v1/me" -> statuses received
}

var (
	contractOnce sync.Once
	theContract  *openAPI
	contractErr  error
)

// contract returns the parsed document, failing the test if it does not parse.
func contract(t *testing.T) *openAPI {
	t.Helper()
	contractOnce.Do(func() { theContract, contractErr = loadOpenAPI(openAPIDoc) })
	if contractErr != nil {
		t.Fatalf("openapi.json: %v", contractErr)
	}
	return theContract
}

func loadOpenAPI(b []byte) (*openAPI, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	o := &openAPI{doc: doc, mux: http.NewServeMux(), seen: map[string]map[string]bool{}}
	for _, rt := range routes {
		o.mux.Handle(rt.pattern(), http.NotFoundHandler())
	}
	return o, nil
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	// Only a full run can judge coverage; a -run filter skips tests on purpose.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && theContract != nil {
		if testing.Verbose() {
			// Documented error answers no test provoked: worth knowing, not a failure,
			// since some (500s, throttles on every route) are impractical to provoke.
			fmt.Fprintf(os.Stderr, "documented error responses not exercised:\n\t%s\n",
				strings.Join(theContract.unexercisedErrors(), "\n\t"))
		}
		if missing := theContract.unexercised(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: documented operations never seen succeeding in any test, so their schemas are unchecked:\n\t%s\n",
				strings.Join(missing, "\n\t"))
			code = 1
		}
	}
	os.Exit(code)
}

// operations returns the document's operations as "METHOD /path" -> operation.
func (o *openAPI) operations() map[string]map[string]any {
	ops := map[string]map[string]any{}
	paths, _ := o.doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				ops[strings.ToUpper(method)+" "+path] = op.(map[string]any)
			}
		}
	}
	return ops
}

// unexercised lists the operations whose success response no test has validated.
func (o *openAPI) unexercised() []string { return o.unseen(true) }

// unexercisedErrors lists the documented error responses no test has validated.
func (o *openAPI) unexercisedErrors() []string { return o.unseen(false) }

func (o *openAPI) unseen(success bool) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var missing []string
	for key, op := range o.operations() {
		for status := range op["responses"].(map[string]any) {
			if strings.HasPrefix(status, "2") == success && !o.seen[key][status] {
				missing = append(missing, key+" "+status)
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// check validates one exchange against the document: the status must be documented
// for the operation, the body must match the documented schema (or be empty when none
// is documented), documented headers must be present, and a request that succeeded
// must itself match the documented request body.
func (o *openAPI) check(t *testing.T, r *http.Request, reqBody []byte, res response) {
	t.Helper()
	where := r.Method + " " + r.URL.Path
	_, pattern := o.mux.Handler(r)
	if pattern == "" {
		// Not an operation: the API's JSON 404/405 still uses the error schema.
		if res.status != http.StatusNotFound && res.status != http.StatusMethodNotAllowed {
			t.Errorf("%s: unrouted request got %d", where, res.status)
		}
		o.validateBody(t, where, map[string]any{"$ref": "#/components/schemas/Error"}, res.body)
		return
	}
	method, path, _ := strings.Cut(pattern, " ")
	key := method + " " + path
	op := o.operations()[key]
	if op == nil {
		t.Errorf("%s: route %s is not in openapi.json", where, key)
		return
	}
	status := strconv.Itoa(res.status)
	respObj, ok := op["responses"].(map[string]any)[status]
	if !ok {
		t.Errorf("%s: status %s is not documented for %s; body %s", where, status, key, res.body)
		return
	}
	o.mu.Lock()
	if o.seen[key] == nil {
		o.seen[key] = map[string]bool{}
	}
	o.seen[key][status] = true
	o.mu.Unlock()
	resp := o.resolve(respObj.(map[string]any))
	if hs, ok := resp["headers"].(map[string]any); ok {
		for h := range hs {
			if res.header.Get(h) == "" {
				t.Errorf("%s: documented header %s missing from the %s response", where, h, status)
			}
		}
	}
	content, _ := resp["content"].(map[string]any)
	if content == nil {
		if len(res.body) != 0 {
			t.Errorf("%s: %s is documented without a body, got %q", where, status, res.body)
		}
	} else {
		if _, ok := content["text/csv"]; ok {
			// A download: the media type must be the documented one, with a header
			// row; the rows themselves are checked by the handler's tests.
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !bytes.Contains(res.body, []byte("\r\n")) {
				t.Errorf("%s: %s documented as text/csv, got %q: %q", where, status, ct, res.body)
			}
			return
		}
		if _, ok := content["application/pdf"]; ok {
			// A PDF download (statements): its text is checked by the statement tests.
			if ct := res.header.Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(res.body, []byte("%PDF-")) {
				t.Errorf("%s: %s documented as application/pdf, got %q", where, status, ct)
			}
			return
		}
		media, ok := content["application/json"].(map[string]any)
		if !ok {
			t.Errorf("%s: %s documented without application/json content", where, status)
			return
		}
		o.validateBody(t, where+" -> "+status, media["schema"], res.body)
	}
	if rb, ok := op["requestBody"].(map[string]any); ok && res.status < 300 {
		schema := rb["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
		o.validateBody(t, where+" request", schema, reqBody)
	}
}

func (o *openAPI) validateBody(t *testing.T, where string, schema any, body []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Errorf("%s: body is not JSON: %v: %q", where, err, body)
		return
	}
	for _, e := range o.validate(schema, v, "$") {
		t.Errorf("%s: %s; body %s", where, e, body)
	}
}

// resolve follows a local $ref ("#/components/...") to what it names.
func (o *openAPI) resolve(m map[string]any) map[string]any {
	for {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = o.doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			next, ok := cur.(map[string]any)[part]
			if !ok {
				panic("unresolvable $ref " + ref)
			}
			cur = next
		}
		m = cur.(map[string]any)
	}
}

// The JSON Schema subset the validator understands. A keyword outside it fails the
// test rather than being ignored, so the document cannot promise what nothing checks.
var (
	schemaKeywords = []string{
		"$ref", "type", "required", "properties", "additionalProperties", "items", "enum", "format",
		"minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "pattern",
	}
	annotationKeywords = []string{"description", "default", "title", "example"}
)

// validate checks v against schema and returns what is wrong, each prefixed with the
// JSON path of the offending value.
func (o *openAPI) validate(schema any, v any, at string) []string {
	s, ok := schema.(map[string]any)
	if !ok {
		return []string{at + ": schema is not an object"}
	}
	if _, ok := s["$ref"]; ok {
		for k := range s {
			if k != "$ref" && !slices.Contains(annotationKeywords, k) {
				return []string{at + ": keyword " + k + " beside $ref is not supported"}
			}
		}
		return o.validate(o.resolve(s), v, at)
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	for k := range s {
		if !slices.Contains(schemaKeywords, k) && !slices.Contains(annotationKeywords, k) {
			fail("schema keyword %q is not supported by the test validator", k)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if types, ok := s["type"]; ok {
		var allowed []string
		switch ty := types.(type) {
		case string:
			allowed = []string{ty}
		case []any:
			for _, x := range ty {
				allowed = append(allowed, x.(string))
			}
		}
		if got := jsonType(v); !slices.Contains(allowed, got) && !(got == "integer" && slices.Contains(allowed, "number")) {
			fail("type %s, want %v", got, allowed)
			return errs
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range enum {
			found = found || fmt.Sprint(x) == fmt.Sprint(v) && jsonType(x) == jsonType(v)
		}
		if !found {
			fail("%v is not one of %v", v, enum)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asSlice(s["required"]) {
			if _, ok := v[r.(string)]; !ok {
				fail("required property %q missing", r)
			}
		}
		for k, x := range v {
			if ps, ok := props[k]; ok {
				errs = append(errs, o.validate(ps, x, at+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("property %q is not in the schema", k)
				}
			case map[string]any:
				errs = append(errs, o.validate(ap, x, at+"."+k)...)
			}
		}
	case []any:
		if n, ok := number(s["minItems"]); ok && float64(len(v)) < n {
			fail("%d items, want at least %v", len(v), n)
		}
		if n, ok := number(s["maxItems"]); ok && float64(len(v)) > n {
			fail("%d items, want at most %v", len(v), n)
		}
		if items, ok := s["items"]; ok {
			for i, x := range v {
				errs = append(errs, o.validate(items, x, at+"["+strconv.Itoa(i)+"]")...)
			}
		}
	case string:
		n := float64(utf8.RuneCountInString(v))
		if m, ok := number(s["minLength"]); ok && n < m {
			fail("shorter than %v", m)
		}
		if m, ok := number(s["maxLength"]); ok && n > m {
			fail("longer than %v", m)
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
			fail("%q does not match %s", v, p)
		}
		switch s["format"] {
		case "date":
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				fail("%q is not a date", v)
			}
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				fail("%q is not a date-time", v)
			}
		}
	case json.Number:
		f, _ := v.Float64()
		if m, ok := number(s["minimum"]); ok && f < m {
			fail("%v is below the minimum %v", v, m)
		}
		if m, ok := number(s["maximum"]); ok && f > m {
			fail("%v is above the maximum %v", v, m)
		}
		if s["format"] == "int64" {
			if _, err := v.Int64(); err != nil {
				fail("%v is not an int64", v)
			}
		}
	}
	return errs
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// jsonType names v's JSON Schema type; numbers without a fraction are integers.
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("unknown %T", v)
}

// TestOpenAPIRoutes checks that the document and routes.go list the same operations,
// with the same security.
func TestOpenAPIRoutes(t *testing.T) {
	o := contract(t)
	if v := o.doc["openapi"]; v != "3.1.0" {
		t.Errorf("openapi version %v, want 3.1.0", v)
	}
	var routed, documented []string
	for _, rt := range routes {
		routed = append(routed, rt.pattern())
	}
	ops := o.operations()
	for key := range ops {
		documented = append(documented, key)
	}
	sort.Strings(routed)
	sort.Strings(documented)
	if diff := cmp.Diff(documented, routed); diff != "" {
		t.Errorf("openapi.json operations (-) differ from routes.go (+):\n%s", diff)
	}
	for _, rt := range routes {
		op := ops[rt.pattern()]
		if op == nil {
			continue
		}
		// An operation without its own security inherits the document's (bearer).
		sec, own := op["security"].([]any)
		needsToken := !own || len(sec) > 0
		if needsToken != rt.auth {
			t.Errorf("%s: documented as needing a token: %v; routed with auth: %v", rt.pattern(), needsToken, rt.auth)
		}
		if rt.auth {
			if _, ok := op["responses"].(map[string]any)["401"]; !ok {
				t.Errorf("%s: authenticated but 401 is not documented", rt.pattern())
			}
		}
		if _, ok := op["operationId"].(string); !ok {
			t.Errorf("%s: no operationId", rt.pattern())
		}
		for status, r := range op["responses"].(map[string]any) {
			resp := o.resolve(r.(map[string]any))
			if status != "204" && resp["content"] == nil {
				t.Errorf("%s: response %s has no content", rt.pattern(), status)
			}
		}
	}
}

// TestOpenAPISchemasUseKnownKeywords walks every schema in the document, so that even
// a schema no test response reaches stays within what the validator checks, and every
// $ref resolves.
func TestOpenAPISchemasUseKnownKeywords(t *testing.T) {
	o := contract(t)
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["$ref"].(string); ok {
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("%s: %v", at, r)
						}
					}()
					o.resolve(v)
				}()
			}
			for k, x := range v {
				walk(at+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(at+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("#", o.doc)
	schemas := o.doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, s := range schemas {
		var check func(at string, s map[string]any)
		check = func(at string, s map[string]any) {
			for k := range s {
				if !slices.Contains(schemaKeywords, k) && !slices.Contains(annotationKeywords, k) {
					t.Errorf("%s: keyword %q is not supported by the test validator", at, k)
				}
			}
			if props, ok := s["properties"].(map[string]any); ok {
				for p, ps := range props {
					check(at+".properties."+p, ps.(map[string]any))
				}
			}
			if items, ok := s["items"].(map[string]any); ok {
				check(at+".items", items)
			}
			if ap, ok := s["additionalProperties"].(map[string]any); ok {
				check(at+".additionalProperties", ap)
			}
		}
		check(name, s.(map[string]any))
	}
}

// TestOpenAPIServed checks that the served document is the embedded one.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	res := e.do(req{method: "GET", path: "/api/openapi.json"})
	if res.status != http.StatusOK {
		t.Fatalf("status %d", res.status)
	}
	var served, embedded any
	if err := json.Unmarshal(res.body, &served); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(openAPIDoc, &embedded); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(embedded, served); diff != "" {
		t.Errorf("served document differs from api/openapi.json:\n%s", diff)
	}
}

// TestValidator makes sure the validator itself rejects what it should, so a passing
// contract means something.
func TestValidator(t *testing.T) {
	o := contract(t)
	obj := func(s string) any {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	session := map[string]any{"$ref": "#/components/schemas/Session"}
	account := map[string]any{"$ref": "#/components/schemas/Account"}
	good := `{"id":1,"client":"app","created_at":"2026-11-22T10:00:00Z","expires_at":"2026-11-22T22:00:00Z","idle_timeout_seconds":300}`
	goodAccount := `{"account_id":1,"product":"Gold","currency":"USD","balance":1,"available_credit":2,"pending":0,"credit_limit":3,"payment_due":null,"minimum_due":0,"cards":[]}`
	tests := []struct {
		name   string
		schema any
		value  string
		ok     bool
	}{
		{"valid session", session, good, true},
		{"missing required", session, `{"id":1,"client":"app","created_at":"2026-11-22T10:00:00Z","expires_at":"2026-11-22T22:00:00Z"}`, false},
		{"extra property", session, strings.Replace(good, `"id":1`, `"id":1,"x":2`, 1), false},
		{"enum", session, strings.Replace(good, `"app"`, `"tv"`, 1), false},
		{"date-time", session, strings.Replace(good, `2026-11-22T10:00:00Z`, `22/11/2026`, 1), false},
		{"integer not float", session, strings.Replace(good, `"id":1`, `"id":1.5`, 1), false},
		{"type", session, strings.Replace(good, `"id":1`, `"id":"1"`, 1), false},
		{"valid account, null due", account, goodAccount, true},
		{"date due", account, strings.Replace(goodAccount, `null`, `"2026-12-15"`, 1), true},
		{"bad date", account, strings.Replace(goodAccount, `null`, `"2026-12-15T00:00:00Z"`, 1), false},
		{"float amount", account, strings.Replace(goodAccount, `"balance":1`, `"balance":1.25`, 1), false},
		{"currency pattern", account, strings.Replace(goodAccount, `"USD"`, `"usd"`, 1), false},
		{"item schema", account, strings.Replace(goodAccount, `"cards":[]`, `"cards":[{}]`, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := o.validate(tt.schema, obj(tt.value), "$")
			if (len(errs) == 0) != tt.ok {
				t.Errorf("valid = %v, want %v; errors %v", len(errs) == 0, tt.ok, errs)
			}
		})
	}
}
