package locale

import (
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// validID is the shape of message ids: dot-separated lower-case words.
var validID = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)

// TestCatalogueFiles checks each file's form: a flat JSON object of
// strings, ids well formed, sorted and unique (so merges stay clean and
// json.Unmarshal never silently drops a duplicate), texts trimmed.
func TestCatalogueFiles(t *testing.T) {
	for _, name := range langFiles {
		files, err := catalogFiles(name)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no message files (%v)", name, err)
		}
		for _, path := range files {
			checkCatalogueFile(t, path)
		}
	}
}

// TestCatalogueFileSets requires every language to have the same feature files, so a
// feature's texts are translated where its English texts are.
func TestCatalogueFileSets(t *testing.T) {
	base := func(files []string) []string {
		var out []string
		for _, f := range files {
			out = append(out, f[strings.LastIndex(f, "/")+1:])
		}
		return out
	}
	en, _ := catalogFiles("en")
	for _, name := range langFiles {
		files, _ := catalogFiles(name)
		if !slices.Equal(base(files), base(en)) {
			t.Errorf("%s has files %v, en has %v", name, base(files), base(en))
		}
	}
}

func checkCatalogueFile(t *testing.T, path string) {
	t.Run(path, func(t *testing.T) {
		data, err := messageFS.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("file must be a JSON object, got %v, %v", tok, err)
		}
		prev := ""
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			id := tok.(string)
			var text string
			if err := dec.Decode(&text); err != nil {
				t.Fatalf("%s: value must be a string: %v", id, err)
			}
			if !validID.MatchString(id) {
				t.Errorf("malformed id %q", id)
			}
			if id <= prev {
				t.Errorf("id %q follows %q: keep ids sorted and unique", id, prev)
			}
			prev = id
			if text == "" || strings.TrimSpace(text) != text {
				t.Errorf("%s: text empty or has surrounding space: %q", id, text)
			}
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
			t.Fatalf("unterminated object: %v, %v", tok, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Errorf("trailing data after the object")
		}
	})
}

// TestCatalogueCompleteness requires every catalogue to define exactly the
// English ids, with exactly the English placeholders, and no braces other
// than placeholders (which catches typos such as "{ name}" or "{Name}").
func TestCatalogueCompleteness(t *testing.T) {
	en := catalogs[langEN]
	for l, name := range langFiles {
		c := catalogs[l]
		for id, text := range c {
			stripped := text
			for _, p := range placeholders(text) {
				stripped = strings.ReplaceAll(stripped, "{"+p+"}", "")
			}
			if strings.ContainsAny(stripped, "{}") {
				t.Errorf("%s: %s: brace that is not a {placeholder}: %q", name, id, text)
			}
			if lang(l) == langEN {
				continue
			}
			enText, ok := en[id]
			if !ok {
				t.Errorf("%s: %s is not in en.json", name, id)
				continue
			}
			want, got := placeholders(enText), placeholders(text)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s: placeholders %v, English has %v", name, id, got, want)
			}
		}
		for id := range en {
			if _, ok := c[id]; !ok {
				t.Errorf("%s: missing %s", name, id)
			}
		}
	}
}

// TestSeedIDs pins the ids other packages were promised.
func TestSeedIDs(t *testing.T) {
	ids := strings.Fields(`
		app.name app.tagline
		nav.signin nav.register nav.dashboard nav.security nav.logout nav.language nav.skip
		signin.title signin.userid signin.password signin.remember signin.remember.help
		signin.remembered signin.notyou signin.submit signin.forgot signin.register
		signin.invalid signin.locked signin.throttled signin.expired signin.loggedout
		register.title register.step1 register.step2 register.cardnumber register.cardnumber.help
		register.cid register.cid.help register.expiry register.name register.dob register.ssn4
		register.pan4 register.dni4 register.pnr4
		register.additional register.basicdob register.continue register.nomatch register.already
		register.throttled register.userid.help register.password.help register.confirm
		register.questions register.question register.answer register.finish register.done
		register.flowexpired
		pw.rule.length pw.rule.upper pw.rule.lower pw.rule.digitsymbol pw.rule.firstchar
		pw.rule.userid pw.rule.history pw.rule.maxlength pw.mismatch
		userid.taken userid.invalid
		q.first_pet q.birth_city q.first_school q.mother_maiden q.first_car q.childhood_friend
		q.first_job q.favourite_teacher q.street q.honeymoon questions.distinct answer.short
		dashboard.title dashboard.product dashboard.card dashboard.balance dashboard.available
		dashboard.limit dashboard.due dashboard.additional dashboard.basic dashboard.nodue
		security.title security.recent security.sessions security.current security.signout
		security.signoutall security.col.time security.col.address security.col.device
		security.col.event event.signin.ok event.signin.fail event.locked event.logout
		event.registered event.session.revoked event.signin.locked
		error.internal error.notfound error.invalid error.toolarge error.csrf
		error.field.required error.field.toolong error.field.invalidchars error.date
		error.expiry error.expiry.past error.cardnumber error.cid error.ssn4
		error.unauthorized error.method
		notice.locked.subject notice.locked.body notice.registered.subject notice.registered.body
		footer.contact footer.demo maintenance.notice`)
	for _, id := range ids {
		if !HasMessage(id) {
			t.Errorf("seed id %q missing", id)
		}
	}
	// Spot-check texts so a shuffled file is noticed.
	spot := []struct {
		l        Locale
		id, want string
	}{
		{EnglishUS, "app.name", "Northwind Card Services"},
		{EnglishUS, "signin.submit", "Log in"},
		{Spanish, "signin.submit", "Iniciar sesión"},
		{Swedish, "signin.submit", "Logga in"},
		{Spanish, "register.dni4", "Últimos 4 caracteres del DNI/NIE"},
		{Swedish, "register.pnr4", "Sista 4 siffrorna i personnumret"},
		{EnglishIndia, "register.pan4", "Last 4 characters of your PAN card number"},
	}
	for _, s := range spot {
		if got := s.l.T(s.id); got != s.want {
			t.Errorf("%v.T(%q) = %q, want %q", s.l, s.id, got, s.want)
		}
	}
}

func TestT(t *testing.T) {
	tests := []struct {
		name string
		l    Locale
		id   string
		kv   []string
		want string
	}{
		{"plain", EnglishUS, "nav.signin", nil, "Log in"},
		{"en-IN shares English", EnglishIndia, "nav.logout", nil, "Log out"},
		{"substitution", EnglishUS, "dashboard.card", []string{"last", "1005"}, "Card ending 1005"},
		{"es substitution", Spanish, "dashboard.card", []string{"last", "1005"}, "Tarjeta terminada en 1005"},
		{"sv substitution", Swedish, "register.question", []string{"n", "2"}, "Fråga 2"},
		{"two placeholders any order", EnglishUS, "notice.registered.body",
			[]string{"userid", "ada", "last", "1005"},
			"Your card ending 1005 is now registered for online services with User ID ada."},
		{"missing arg left visible", EnglishUS, "dashboard.card", nil, "Card ending {last}"},
		{"wrong arg left visible", EnglishUS, "dashboard.card", []string{"n", "1"}, "Card ending {last}"},
		{"values not re-expanded", EnglishUS, "signin.remembered",
			[]string{"userid", "{userid}{last}", "last", "X"}, "Signing in as {userid}{last}"},
		{"odd trailing key ignored", EnglishUS, "pw.rule.length", []string{"min", "12", "max"}, "At least 12 characters"},
		{"unused args ignored", EnglishUS, "nav.signin", []string{"a", "b"}, "Log in"},
		{"unknown id", Swedish, "no.such.id", []string{"a", "b"}, "no.such.id"},
		{"empty id", EnglishUS, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.T(tt.id, tt.kv...); got != tt.want {
				t.Errorf("T(%q, %q) = %q, want %q", tt.id, tt.kv, got, tt.want)
			}
		})
	}
}

func TestTFallback(t *testing.T) {
	// Simulate an id another engineer has added to en.json only.
	const id = "test.only.english"
	catalogs[langEN][id] = "Hello {name}"
	t.Cleanup(func() { delete(catalogs[langEN], id) })
	for _, l := range Supported() {
		if got := l.T(id, "name", "Ada"); got != "Hello Ada" {
			t.Errorf("%v: fallback = %q, want English", l, got)
		}
	}
}

func TestSubstituteEdgeCases(t *testing.T) {
	kv := []string{"a", "1", "b_2", "2"}
	tests := map[string]string{
		"":              "",
		"{":             "{",
		"}":             "}",
		"{}":            "{}",
		"{a":            "{a",
		"{{a}}":         "{1}",
		"{ a}":          "{ a}",
		"{A}":           "{A}",
		"{a}{b_2}{a}":   "121",
		"x{a-b}y":       "x{a-b}y",
		"ünï{a}cødé":    "ünï1cødé",
		"{c} and {a}":   "{c} and 1",
		"tail {b_2}":    "tail 2",
		"{a}{":          "1{",
		"{\xff}{a}":     "{\xff}1",
		"{a}}":          "1}",
		"{{}":           "{{}",
		"nested {{a}}.": "nested {1}.",
	}
	for in, want := range tests {
		if got := substitute(in, kv); got != want {
			t.Errorf("substitute(%q) = %q, want %q", in, got, want)
		}
	}
	if got := placeholders("{a} {b} {a} {} {C}"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("placeholders = %q", got)
	}
}

func FuzzSubstitute(f *testing.F) {
	f.Add("Hello {name}, {x", "Ada")
	f.Fuzz(func(t *testing.T, text, v string) {
		got := substitute(text, []string{"name", v})
		if len(placeholders(text)) == 0 && got != text {
			t.Fatalf("text without placeholders changed: %q -> %q", text, got)
		}
	})
}
