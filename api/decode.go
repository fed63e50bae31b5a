package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/safehttp"
)

// maxBody bounds request bodies. The largest request, registration, is well under
// 1 KiB; 16 KiB leaves room for long passphrases without letting a client make the
// server buffer much.
const maxBody = 16 << 10

// maxDepth bounds nesting: no request is deeper than 3, and a deep one is an attack
// on the scanner, not a request.
const maxDepth = 8

// decode reads the request body as exactly one JSON object into dst, whose type lists
// the only fields accepted. It answers 415 for anything but application/json, 413
// past maxBody, 400 for what is not one well-formed JSON object with known, unique
// keys, and 422 with field problems for strings that are not clean text (invalid
// UTF-8, control characters) or values of the wrong type.
func decode(c *call, dst any) error {
	mt, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &problem{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", msg: "error.mediatype"}
	}
	// JSON is UTF-8 (RFC 8259); a client announcing anything else means something else.
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &problem{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", msg: "error.mediatype"}
	}
	tooLarge := &problem{status: http.StatusRequestEntityTooLarge, code: "too_large", msg: "error.toolarge"}
	if c.r.ContentLength > maxBody {
		return tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBody))
	if safehttp.TooLarge(err) {
		return tooLarge
	}
	if err != nil {
		return badRequest(err)
	}
	fields, err := scan(body)
	if err != nil {
		return badRequest(err)
	}
	if len(fields) > 0 {
		return cp.InvalidFields("api.decode", fields...)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return cp.InvalidFields("api.decode", cp.FieldError{Field: te.Field, Msg: "error.field.invalid"})
		}
		return badRequest(err)
	}
	return nil
}

func badRequest(err error) error {
	return &problem{status: http.StatusBadRequest, code: "bad_request", msg: "error.badrequest", err: err}
}

// scan checks the body's shape before it is decoded into a struct: one JSON object
// and nothing after it, no key repeated (encoding/json would silently keep the last,
// and two parsers disagreeing about a request is how checks get bypassed), and every
// string clean text. encoding/json replaces invalid UTF-8 and lone surrogates with
// U+FFFD without complaint, so a string holding U+FFFD is treated as invalid here;
// no one types that character on purpose. The returned field problems name the
// offending strings by path, e.g. "security_questions[1].answer".
func scan(body []byte) ([]cp.FieldError, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, errors.New("request body is not a JSON object")
	}
	var fields []cp.FieldError
	if err := scanObject(dec, "", 1, &fields); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return fields, nil
}

// scanObject reads the members of an object whose '{' has been read, and its '}'.
func scanObject(dec *json.Decoder, path string, depth int, fields *[]cp.FieldError) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok || seen[key] {
			return errors.New("repeated or malformed key")
		}
		seen[key] = true
		p := key
		if path != "" {
			p = path + "." + key
		}
		if err := scanValue(dec, p, depth, fields); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

func scanValue(dec *json.Decoder, path string, depth int, fields *[]cp.FieldError) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return errors.New("nested too deeply")
		}
		if v == '{' {
			return scanObject(dec, path, depth+1, fields)
		}
		for i := 0; dec.More(); i++ {
			if err := scanValue(dec, path+"["+strconv.Itoa(i)+"]", depth+1, fields); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		return err
	case string:
		if !cleanText(v) {
			*fields = append(*fields, cp.FieldError{Field: path, Msg: "error.field.invalidchars"})
		}
	}
	return nil
}

// cleanText reports whether s is text a person could have typed: valid UTF-8 without
// the replacement character and without C0 or C1 control characters (which have no
// business in a name or a password and are the raw material of log and header
// injection).
func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
