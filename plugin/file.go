package plugin

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/internal/configfile"
	"github.com/corsgate/corsgate/schema"
)

// FileError is a configuration file that cannot be used: it does not
// parse as JSON, or it has problems that JSON parsers hide (a key written
// twice in a CORS block, a CORS block where lura never reads it).
type FileError struct {
	// Path is the file's path.
	Path string
	// Syntax is set when the file is not JSON.
	Syntax *schema.SyntaxError
	// Problems are the other problems, each with its JSON path.
	Problems policy.Errors
	// Err is any other error (the file cannot be read, or lura refuses
	// it).
	Err error
}

// Error implements error.
func (e *FileError) Error() string {
	switch {
	case e.Syntax != nil:
		msg := fmt.Sprintf("%s:%d:%d: not valid JSON: %s", e.Path, e.Syntax.Line, e.Syntax.Column, e.Syntax.Message)
		if e.Syntax.Hint != "" {
			msg += "\n  hint: " + e.Syntax.Hint
		}
		if e.Syntax.Excerpt != "" {
			msg += "\n  " + strings.ReplaceAll(e.Syntax.Excerpt, "\n", "\n  ")
		}
		return msg
	case e.Err != nil:
		return e.Path + ": " + e.Err.Error()
	}
	lines := []string{fmt.Sprintf("%s: %d problem(s) in the CORS settings:", e.Path, len(e.Problems))}
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.Error())
	}
	return strings.Join(append(lines, e.Problems.KnownKeys()...), "\n")
}

// Redacted is Error without any text of the file: the path, the line, the
// column and the JSON paths only. A gateway logs it, and shows it in its
// status, when a reload fails: a line of the file may hold a secret (a
// client_secret, a password), and the log and the status are read by
// others than the file's owner. (corsgate check, run by the owner on the
// file, shows the line.)
func (e *FileError) Redacted() string {
	if e.Syntax != nil {
		msg := fmt.Sprintf("%s:%d:%d: not valid JSON: %s", e.Path, e.Syntax.Line, e.Syntax.Column, e.Syntax.Message)
		if e.Syntax.Hint != "" {
			msg += "\n  hint: " + e.Syntax.Hint
		}
		return msg + "\n  (run corsgate check -c " + e.Path + " to see the line)"
	}
	return e.Error()
}

// Redacted is err's message without any text of the configuration file
// (see FileError.Redacted), for logs and statuses.
func Redacted(err error) string {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe.Redacted()
	}
	return err.Error()
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error {
	if e.Problems != nil {
		return e.Problems
	}
	return e.Err
}

// corsBlockPath matches the JSON paths where lura reads a security/cors
// block: the service's extra_config and each endpoint's; and where the
// corsgate KrakenD plugin reads it, in its own block.
var corsBlockPath = regexp.MustCompile(`^(extra_config|endpoints\[[0-9]+\]\.extra_config|extra_config\["plugin/http-server"\]\.corsgate)$`)

// endpointIndex finds the endpoint a JSON path lies in.
var endpointIndex = regexp.MustCompile(`^endpoints\[([0-9]+)\]`)

// ParseFile reads a KrakenD v3 JSON configuration file with lura's parser
// and applies PrepareConfig. Before that, it checks what lura's parser
// does not: a syntax error is located by line and column with a hint, a
// key written twice in a CORS block is an error (a JSON decoder keeps
// only the second value, without a word), and so is a CORS block where
// lura never reads it. Keys written twice elsewhere are returned as
// warnings. The error, when not nil, is a *FileError.
func ParseFile(path string) (luraconfig.ServiceConfig, policy.Errors, error) {
	var cfg luraconfig.ServiceConfig
	data, err := configfile.Read(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return cfg, nil, &FileError{Path: path, Err: err}
	}
	keys, dups, err := schema.ScanJSON(data)
	if err != nil {
		var se *schema.SyntaxError
		if errors.As(err, &se) {
			return cfg, nil, &FileError{Path: path, Syntax: se}
		}
		return cfg, nil, &FileError{Path: path, Err: err}
	}
	var problems, warnings policy.Errors
	for _, d := range dups {
		e := policy.Error{Path: d.Path(), Message: fmt.Sprintf("%q is written twice in this object, on lines %d and %d; a JSON parser keeps only the second value, without a word, so remove one", d.Key, d.First, d.Line)}
		if inCORSBlock(d.Path()) {
			problems = append(problems, e)
		} else {
			warnings = append(warnings, e)
		}
	}
	for _, k := range keys {
		if (k.Key == Namespace || k.Key == LegacyNamespace) && !corsBlockPath.MatchString(k.Object) {
			ep := -1
			if m := endpointIndex.FindStringSubmatch(k.Object); m != nil {
				fmt.Sscan(m[1], &ep)
			}
			e := misplaced(k.Path(), ep)
			e.Message += fmt.Sprintf(" (line %d)", k.Line)
			problems = append(problems, e)
		}
	}
	if len(problems) > 0 {
		return cfg, warnings, &FileError{Path: path, Problems: problems}
	}
	// lura parses the bytes read and checked above, not the path again:
	// the file may have changed since, or be a named pipe by now.
	cfg, err = luraconfig.NewParserWithFileReader(func(string) ([]byte, error) { return data, nil }).Parse(path)
	if err != nil {
		return cfg, warnings, &FileError{Path: path, Err: fmt.Errorf("lura refuses the configuration: %w", unwrapLura(err, path))}
	}
	PrepareConfig(&cfg)
	return cfg, warnings, nil
}

// inCORSBlock reports whether a JSON path lies in a security/cors block.
func inCORSBlock(path string) bool {
	for _, ns := range []string{Namespace, LegacyNamespace} {
		if strings.Contains(path, schema.Path("", ns)) || strings.Contains(path, "."+ns) {
			return true
		}
	}
	return false
}

// unwrapLura drops the file name lura's parser puts in front of its
// errors ('path': ...), which FileError prints already.
func unwrapLura(err error, path string) error {
	if msg, ok := strings.CutPrefix(err.Error(), "'"+path+"': "); ok {
		return errors.New(msg)
	}
	return err
}

// ReadCORS reads the configuration file at path again, for a reload of
// its CORS settings while the gateway runs: the parsed configuration and
// its CORS document, which must be valid on its own (the run-time layer
// is merged over it afterwards). The error is a *FileError, or a
// policy.Errors with every problem.
func ReadCORS(path string) (luraconfig.ServiceConfig, *policy.Document, error) {
	cfg, _, err := ParseFile(path)
	if err != nil {
		return cfg, nil, err
	}
	doc, routes, err := Read(cfg)
	if err == nil {
		_, err = core.Compile(doc, routes)
	}
	if err != nil {
		return cfg, nil, err
	}
	return cfg, doc, nil
}
