package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SyntaxError is a JSON text that does not parse, located for a person.
type SyntaxError struct {
	// Line and Column are 1-based; Column counts bytes.
	Line, Column int
	// Message is the parser's description.
	Message string
	// Hint says how to fix the most common causes, or is empty.
	Hint string
	// Excerpt is the line with the error and a caret under the column.
	Excerpt string
}

// Error implements error: "line 3, column 5: message; hint".
func (e *SyntaxError) Error() string {
	msg := fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// KeyAt is one key of a JSON object, where it is written.
type KeyAt struct {
	// Object is the JSON path of the object that holds the key ("" for
	// the top-level object).
	Object string
	// Key is the key.
	Key string
	// Line is the 1-based line of the key.
	Line int
}

// Path is the JSON path of the key's value.
func (k KeyAt) Path() string { return Path(k.Object, k.Key) }

// Duplicate is a key written twice in one JSON object. Decoders keep one
// of the two values without a word (encoding/json the last one).
type Duplicate struct {
	KeyAt
	// First is the line where the key was written the first time.
	First int
}

// ScanJSON parses JSON text and lists every object key with its location,
// and every key written twice in one object. It returns a *SyntaxError
// when data is not JSON.
func ScanJSON(data []byte) (keys []KeyAt, dups []Duplicate, err error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, nil, syntaxError(data, err)
	}
	type frame struct {
		obj       bool
		expectKey bool
		key       string
		index     int
		seen      map[string]int
		path      string // of this container
	}
	var stack []*frame
	childPath := func(f *frame) string {
		if f.obj {
			return Path(f.path, f.key)
		}
		return Index(f.path, f.index)
	}
	advance := func() {
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		if f.obj {
			f.expectKey = true
		} else {
			f.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, syntaxError(data, err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				advance()
				continue
			}
			key := tok.(string)
			line := lineAt(data, skipSeparators(data, int(off)))
			at := KeyAt{Object: top.path, Key: key, Line: line}
			keys = append(keys, at)
			if first, dup := top.seen[key]; dup {
				dups = append(dups, Duplicate{KeyAt: at, First: first})
			} else {
				top.seen[key] = line
			}
			top.key, top.expectKey = key, false
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			path := ""
			if top != nil {
				path = childPath(top)
			}
			stack = append(stack, &frame{obj: tok == json.Delim('{'), expectKey: true, seen: map[string]int{}, path: path})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			advance()
		default:
			advance()
		}
	}
	return keys, dups, nil
}

// skipSeparators moves past white space, commas and colons.
func skipSeparators(data []byte, i int) int {
	for i < len(data) && strings.IndexByte(" \t\r\n,:", data[i]) >= 0 {
		i++
	}
	return i
}

func lineAt(data []byte, off int) int {
	return bytes.Count(data[:min(off, len(data))], []byte("\n")) + 1
}

// syntaxError locates a decoding error and adds a hint for the usual
// causes: a trailing comma, a comment, single quotes, an unquoted key, a
// missing comma.
func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	off := len(data)
	msg := err.Error()
	switch {
	case errors.As(err, &se):
		off = int(se.Offset)
		if off > 0 {
			off-- // Offset is just past the byte that failed
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "unexpected end of the file"
	}
	off = min(off, len(data))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	end := bytes.IndexByte(data[off:], '\n')
	if end < 0 {
		end = len(data)
	} else {
		end += off
	}
	e := &SyntaxError{Line: lineAt(data, off), Column: off - start + 1, Message: msg}
	line := strings.TrimRight(string(data[start:end]), "\r")
	if len(line) <= 200 {
		e.Excerpt = line + "\n" + strings.Repeat(" ", max(0, off-start)) + "^"
	}
	before := bytes.TrimRight(data[:off], " \t\r\n")
	var at byte
	if off < len(data) {
		at = data[off]
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || off >= len(data) || strings.Contains(msg, "unexpected end"):
		e.Hint = "a { or [ is not closed; count the brackets"
	case (at == '}' || at == ']') && bytes.HasSuffix(before, []byte(",")):
		e.Hint = "JSON allows no comma after the last item of an object or a list; remove the comma before it"
	case at == '/' || at == '#':
		e.Hint = "JSON has no comments; use an \"@comment\" key instead"
	case at == '\'':
		e.Hint = "JSON strings and keys take double quotes, not single quotes"
	case at == '"' && len(before) > 0 && strings.IndexByte("\"}]0123456789el", before[len(before)-1]) >= 0:
		e.Hint = "a comma is missing before this item"
	case isLetter(at) && len(before) > 0 && (before[len(before)-1] == '{' || before[len(before)-1] == ','):
		e.Hint = "keys must be strings in double quotes"
	}
	return e
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' || c == '_' }
