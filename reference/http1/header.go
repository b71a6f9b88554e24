package http1

import "strings"

// Field is one header or trailer field line, name and value as received
// (the value without leading and trailing whitespace).
type Field struct {
	Name  string
	Value string
}

// Header is the ordered list of field lines of a header or trailer section.
// Names compare case-insensitively (RFC 9110 5.1).
type Header []Field

// Get returns the value of the first field named name, or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Has reports whether a field named name is present.
func (h Header) Has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Values returns the values of all field lines named name, in order.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Add appends a field line.
func (h *Header) Add(name, value string) { *h = append(*h, Field{name, value}) }

// Set replaces every field named name with one field line.
func (h *Header) Set(name, value string) {
	h.Del(name)
	h.Add(name, value)
}

// Del removes every field named name.
func (h *Header) Del(name string) {
	out := (*h)[:0]
	for _, f := range *h {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	*h = out
}

// List returns the members of the comma-separated list field name over all
// its field lines (RFC 9110 5.6.1), trimmed, empty members dropped.
// Quoted strings are not split.
func (h Header) List(name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		out = appendList(out, v)
	}
	return out
}

// appendList splits a list field value on commas outside quoted strings.
func appendList(out []string, v string) []string {
	start, inq := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			inq = !inq
		case c == '\\' && inq:
			i++
		case c == ',' && !inq:
			if m := trimOWS(v[start:i]); m != "" {
				out = append(out, m)
			}
			start = i + 1
		}
	}
	if start <= len(v) {
		if m := trimOWS(v[start:]); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// hasToken reports whether the list field name contains token
// (case-insensitive), as for Connection options.
func (h Header) hasToken(name, token string) bool {
	for _, m := range h.List(name) {
		if strings.EqualFold(m, token) {
			return true
		}
	}
	return false
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isTchar reports whether c may appear in a token (RFC 9110 5.6.2).
func isTchar(c byte) bool {
	return tcharTable[c]
}

var tcharTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// isToken reports whether s is a non-empty token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}
