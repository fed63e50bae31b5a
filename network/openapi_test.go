package network

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// The document and the routes agree in both directions, and every status a test in
// this package received is one the document lists for its operation (seen records
// them; TestMain checks).

var (
	seenMu sync.Mutex
	seenOp = map[string]map[int]bool{} // "POST /network/v1/authorisations" -> statuses
)

func seen(r *http.Request, w *httptest.ResponseRecorder) {
	seenMu.Lock()
	defer seenMu.Unlock()
	k := r.Method + " " + r.URL.Path
	if seenOp[k] == nil {
		seenOp[k] = map[int]bool{}
	}
	seenOp[k][w.Code] = true
}

type doc struct {
	Paths map[string]map[string]struct {
		Responses map[string]any `json:"responses"`
	} `json:"paths"`
}

func loadDoc(t testing.TB) doc {
	var d doc
	if err := json.Unmarshal(openAPIDoc, &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return d
}

func TestOpenAPIRoutes(t *testing.T) {
	d := loadDoc(t)
	var documented, served []string
	for path, ops := range d.Paths {
		for method := range ops {
			documented = append(documented, method+" "+path)
		}
	}
	for _, rt := range routes(&handler{}) {
		served = append(served, map[string]string{"GET": "get", "POST": "post"}[rt.method]+" "+rt.path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented %v, served %v", documented, served)
	}
	// The document is served.
	h := NewHandler(Deps{Secret: testSecret})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/network/openapi.json", nil))
	if w.Code != 200 || w.Body.Len() != len(openAPIDoc) {
		t.Errorf("GET openapi.json: %d, %d bytes", w.Code, w.Body.Len())
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		var d doc
		_ = json.Unmarshal(openAPIDoc, &d)
		for op, statuses := range seenOp {
			var method, path string
			for i := range op {
				if op[i] == ' ' {
					method, path = op[:i], op[i+1:]
					break
				}
			}
			o, ok := d.Paths[path][map[string]string{"GET": "get", "POST": "post"}[method]]
			if !ok {
				println("undocumented operation " + op)
				code = 1
				continue
			}
			for st := range statuses {
				if _, ok := o.Responses[strconv.Itoa(st)]; !ok {
					println("undocumented status " + strconv.Itoa(st) + " for " + op)
					code = 1
				}
			}
		}
	}
	os.Exit(code)
}
