package locale

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

// messageFS holds the catalogues. Embedding them means a deployed binary
// can never run with texts that don't match the ids its code uses.
//
// Each language is a directory of files, one per feature (messages/sv/core.json,
// messages/sv/mfa.json, ...), merged at start-up; an id defined twice is a defect.
//
//go:embed messages
var messageFS embed.FS

// catalogs is indexed by lang. It is built once at start-up and only read
// afterwards, so concurrent lookups need no locking.
var catalogs = mustLoadCatalogs()

func mustLoadCatalogs() [numLangs]map[string]string {
	var cs [numLangs]map[string]string
	for l, name := range langFiles {
		m, err := loadCatalog(name)
		if err != nil {
			// The files are compiled in and checked by the tests, so a
			// failure here is a build defect, not a runtime condition.
			panic(err)
		}
		cs[l] = m
	}
	return cs
}

func loadCatalog(name string) (map[string]string, error) {
	files, err := catalogFiles(name)
	if err != nil {
		return nil, err
	}
	all := map[string]string{}
	for _, path := range files {
		data, err := messageFS.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("locale: reading %s: %w", path, err)
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("locale: parsing %s: %w", path, err)
		}
		for id, text := range m {
			if _, dup := all[id]; dup {
				return nil, fmt.Errorf("locale: %s: id %q is defined in another file too", path, id)
			}
			all[id] = text
		}
	}
	return all, nil
}

// catalogFiles lists a language's message files in name order.
func catalogFiles(lang string) ([]string, error) {
	entries, err := fs.ReadDir(messageFS, "messages/"+lang)
	if err != nil {
		return nil, fmt.Errorf("locale: reading messages/%s: %w", lang, err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			files = append(files, "messages/"+lang+"/"+e.Name())
		}
	}
	return files, nil
}

// T returns the text for message id in l's language with its {name}
// placeholders replaced. kv holds alternating placeholder names and values:
//
//	l.T("dashboard.card", "last", "1005")
//
// Values are inserted verbatim and are not themselves scanned for
// placeholders. A placeholder without a value is left as written; a trailing
// unpaired name is ignored. If the language has no text for id the English
// text is used, and if English has none either T returns id itself, so a
// page never renders blank or panics over a missing message.
func (l Locale) T(id string, kv ...string) string {
	text, ok := catalogs[l.info().lang][id]
	if !ok {
		if text, ok = catalogs[langEN][id]; !ok {
			return id
		}
	}
	if len(kv) < 2 || !strings.Contains(text, "{") {
		return text
	}
	return substitute(text, kv)
}

// HasMessage reports whether id is defined in the English catalogue, the
// reference every other catalogue is tested against. Other packages can use
// it in their tests to check that the ids they pass to T exist.
func HasMessage(id string) bool {
	_, ok := catalogs[langEN][id]
	return ok
}

// substitute replaces each well-formed {name} in text whose name appears
// as a key in kv. It makes a single left-to-right pass, so values are never
// re-expanded.
func substitute(text string, kv []string) string {
	var b strings.Builder
	b.Grow(len(text) + 16)
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		text = text[i:]
		name, n := placeholderAt(text)
		if n == 0 { // a lone '{' is ordinary text
			b.WriteByte('{')
			text = text[1:]
			continue
		}
		if v, ok := lookup(kv, name); ok {
			b.WriteString(v)
		} else {
			b.WriteString(text[:n])
		}
		text = text[n:]
	}
}

// lookup finds name among the keys of kv. A linear scan beats building a
// map: messages take at most a few arguments.
func lookup(kv []string, name string) (string, bool) {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == name {
			return kv[i+1], true
		}
	}
	return "", false
}

// placeholderAt reports whether s starts with a well-formed placeholder
// "{name}" (name: one or more of a-z, 0-9, '_'). It returns the name and
// the placeholder's length in bytes, or n == 0 if there is none.
func placeholderAt(s string) (name string, n int) {
	if len(s) < 3 || s[0] != '{' {
		return "", 0
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '}':
			if i == 1 {
				return "", 0
			}
			return s[1:i], i + 1
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		default:
			return "", 0
		}
	}
	return "", 0
}

// placeholders returns the distinct placeholder names used in text, in
// order of first appearance.
func placeholders(text string) []string {
	var names []string
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			return names
		}
		text = text[i:]
		name, n := placeholderAt(text)
		if n == 0 {
			text = text[1:]
			continue
		}
		seen := false
		for _, x := range names {
			seen = seen || x == name
		}
		if !seen {
			names = append(names, name)
		}
		text = text[n:]
	}
}
