package auth

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"unicode/utf8"
)

// Sources says where credentials come from: the corsgate/admin block's file
// keys, and the environment, read through Getenv. Every source is optional;
// Load reads each one that is set.
type Sources struct {
	// BasicAuthFile is the corsgate/admin block's "basic_auth_file": one
	// HTTP Basic user per line, written "user:password". Blank lines and
	// lines starting with # are ignored. The password is everything after
	// the first ':'.
	BasicAuthFile string
	// TokenFile is the corsgate/admin block's "token_file": the Bearer
	// token, on the file's first non-empty line, trimmed.
	TokenFile string
	// ReadOnlyTokenFile is the corsgate/admin block's
	// "read_only_token_file": a Bearer token, as in TokenFile, that may
	// only read (GET and HEAD): for a metrics scraper or a viewer.
	ReadOnlyTokenFile string
	// Getenv reads the environment variables EnvUser, EnvPassword and
	// EnvToken. When it is nil, Load reads the process environment, and
	// can then also tell a variable set to "" from one not set; through
	// Getenv an empty value means not set.
	Getenv func(string) string
}

// Environment variables read by Load.
const (
	// EnvUser is the name of the HTTP Basic user configured through the
	// environment. It needs EnvPassword.
	EnvUser = "CORSGATE_ADMIN_USER"
	// EnvPassword is EnvUser's password.
	EnvPassword = "CORSGATE_ADMIN_PASSWORD"
	// EnvToken is a Bearer token.
	EnvToken = "CORSGATE_ADMIN_TOKEN"
	// EnvReadUser and EnvReadPassword are an HTTP Basic user that may
	// only read (GET and HEAD), and EnvReadToken such a Bearer token.
	EnvReadUser     = "CORSGATE_ADMIN_READ_USER"
	EnvReadPassword = "CORSGATE_ADMIN_READ_PASSWORD"
	EnvReadToken    = "CORSGATE_ADMIN_READ_TOKEN"
)

const (
	// minTokenBytes is the shortest token Load accepts.
	minTokenBytes = 16
	// MinPasswordChars is the shortest password Load accepts: a password
	// of 16 random characters resists guessing even without the guard's
	// backoff.
	MinPasswordChars = 16
	// maxFileBytes bounds a credential file.
	maxFileBytes = 1 << 20
	// tokenAdvice and passwordAdvice say how to make a good secret.
	tokenAdvice    = "use at least 16 random bytes, for example: openssl rand -hex 24"
	passwordAdvice = "use at least 16 random characters, for example the 24 that this prints: openssl rand -base64 18"
)

// Load reads every source in s and returns the credentials they configure.
// Sources that configure nothing give empty Credentials and no error: the
// caller decides whether that is acceptable (see Credentials.Empty).
//
// It refuses, and returns every problem it found joined in one error, each
// naming the variable or file and saying how to fix it:
//
//   - EnvUser set without EnvPassword (an empty password is never
//     accepted), and EnvPassword set without EnvUser;
//   - a variable set to an empty value, a user name containing ':' (HTTP
//     Basic cannot carry it);
//   - a file that cannot be read, is not a regular file, or is larger than
//     1 MiB, and a file that group or others may read or write;
//   - a basic_auth_file line without ':' or with an empty user or password
//     (by line number: the line itself may be a password), a user defined
//     twice, and a basic_auth_file without any user;
//   - a token_file without a token, a token shorter than 16 bytes, and a
//     token with a space or a control character in it;
//   - a password shorter than MinPasswordChars, with a command that
//     generates a good one.
//
// The read-only credentials (EnvReadUser and EnvReadPassword, EnvReadToken,
// ReadOnlyTokenFile) follow the same rules. No error message contains a
// password or a token. User names or passwords with spaces around them are
// accepted but listed in Warnings.
func Load(s Sources) (*Credentials, error) {
	l := &loader{lookup: envLookup(s.Getenv)}
	l.fromEnv()
	if s.BasicAuthFile != "" {
		l.basicAuthFile(s.BasicAuthFile)
	}
	if s.TokenFile != "" {
		l.tokenFile(s.TokenFile, "token_file", false)
	}
	if s.ReadOnlyTokenFile != "" {
		l.tokenFile(s.ReadOnlyTokenFile, "read_only_token_file", true)
	}
	if len(l.problems) > 0 {
		return nil, errors.Join(l.problems...)
	}
	return &Credentials{users: l.users, tokens: l.tokens, warnings: l.warnings}, nil
}

// envLookup returns how Load reads a variable: os.LookupEnv when getenv is
// nil, else getenv, for which "" means not set.
func envLookup(getenv func(string) string) func(string) (string, bool) {
	if getenv == nil {
		return os.LookupEnv
	}
	return func(name string) (string, bool) {
		v := getenv(name)
		return v, v != ""
	}
}

// loader collects the credentials, the problems and the warnings of one
// Load.
type loader struct {
	lookup   func(string) (string, bool)
	users    []user
	tokens   []token
	problems []error
	warnings []string
}

func (l *loader) fail(format string, args ...any) {
	l.problems = append(l.problems, fmt.Errorf(format, args...))
}

func (l *loader) warn(format string, args ...any) {
	l.warnings = append(l.warnings, fmt.Sprintf(format, args...))
}

// fromEnv reads EnvUser, EnvPassword and EnvToken, and their read-only
// counterparts.
func (l *loader) fromEnv() {
	l.envUser(EnvUser, EnvPassword, false)
	l.envUser(EnvReadUser, EnvReadPassword, true)
	if tok, set := l.lookup(EnvToken); set {
		l.addToken(strings.TrimSpace(tok), EnvToken, false)
	}
	if tok, set := l.lookup(EnvReadToken); set {
		l.addToken(strings.TrimSpace(tok), EnvReadToken, true)
	}
}

// envUser reads a Basic user from the variables userVar and passVar.
func (l *loader) envUser(userVar, passVar string, readOnly bool) {
	name, nameSet := l.lookup(userVar)
	pass, passSet := l.lookup(passVar)
	nameEmpty := nameSet && strings.TrimSpace(name) == ""
	passEmpty := passSet && strings.TrimSpace(pass) == ""
	if nameEmpty {
		l.fail("%s is set but empty: set it to the user's name (and %s to its password), or unset it", userVar, passVar)
	}
	if passEmpty {
		l.fail("%s is set but empty, and corsgate never accepts an empty password: set a password (%s), or unset it", passVar, passwordAdvice)
	}
	switch {
	case nameSet && !nameEmpty && !passSet:
		l.fail("%s is set (to %q) but %s is not, and corsgate never accepts an empty password: set %s to that user's password (%s), or unset %s", userVar, name, passVar, passVar, passwordAdvice, userVar)
	case passSet && !passEmpty && !nameSet:
		l.fail("%s is set but %s is not: set %s to the name of the user this password is for, or unset %s", passVar, userVar, userVar, passVar)
	case nameSet && passSet && !nameEmpty && !passEmpty:
		if strings.Contains(name, ":") {
			l.fail("%s %q contains ':', which HTTP Basic uses to separate the user from the password: choose a name without ':'", userVar, name)
			break
		}
		l.addUser(name, pass, userVar, passVar, readOnly)
	}
}

// basicAuthFile reads a basic_auth_file.
func (l *loader) basicAuthFile(path string) {
	data, ok := l.readFile("basic_auth_file", path)
	if !ok {
		return
	}
	before := len(l.users)
	bad := false
	for i, line := range strings.Split(string(data), "\n") {
		at := fmt.Sprintf("basic_auth_file %s:%d", path, i+1)
		line = strings.TrimSuffix(line, "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		name, pass, found := strings.Cut(line, ":")
		switch {
		case !found:
			// The line is not printed: it may be a password alone.
			l.fail("%s: no ':' between the user's name and the password; write each user as name:password", at)
		case strings.TrimSpace(name) == "":
			l.fail("%s: the user's name is empty; write each user as name:password", at)
		case strings.TrimSpace(pass) == "":
			l.fail("%s: the password of user %q is empty, and corsgate never accepts an empty password; write name:password (%s)", at, name, passwordAdvice)
		default:
			if l.addUser(name, pass, at, at, false) {
				continue
			}
		}
		bad = true
	}
	if len(l.users) == before && !bad {
		l.fail("basic_auth_file %s: no user in the file; write one user per line as name:password, or remove \"basic_auth_file\" from the corsgate/admin block", path)
	}
}

// tokenFile reads a token_file (key names the block's key).
func (l *loader) tokenFile(path, key string, readOnly bool) {
	data, ok := l.readFile(key, path)
	if !ok {
		return
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if t := strings.TrimSpace(line); t != "" {
			l.addToken(t, key+" "+path, readOnly)
			return
		}
	}
	l.fail("%s %s: no token in the file; write the token on its first line (%s), or remove %q from the corsgate/admin block", key, path, tokenAdvice, key)
}

// readFile reads a credential file, refusing one that group or others may
// read or write. Its contents are returned even then, so that the lines'
// problems are reported in the same run.
func (l *loader) readFile(key, path string) ([]byte, bool) {
	at := key + " " + path
	f, err := os.Open(path)
	if err != nil {
		l.fail("%s: cannot be read (%v); fix the path of %q in the corsgate/admin block, or let the user corsgate runs as read the file", at, cause(err), key)
		return nil, false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		l.fail("%s: cannot be read (%v); fix the path of %q in the corsgate/admin block", at, cause(err), key)
		return nil, false
	}
	if !info.Mode().IsRegular() {
		l.fail("%s: not a regular file (%s); name the file that holds the credentials in %q", at, info.Mode().Type(), key)
		return nil, false
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		l.fail("%s: group or others may read or write this file (mode %04o), and it holds secrets: run chmod 600 %s (for a Kubernetes secret volume, set defaultMode: 0400)", at, perm, shellQuote(path))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		l.fail("%s: cannot be read (%v); fix the path of %q in the corsgate/admin block", at, cause(err), key)
		return nil, false
	}
	if len(data) > maxFileBytes {
		l.fail("%s: larger than %d bytes, far more than credentials need; check that %q names the right file", at, maxFileBytes, key)
		return nil, false
	}
	return data, true
}

// addUser adds a Basic user, unless a user of that name exists, and
// reports whether it did. nameAt and passAt say where the name and the
// password were written.
func (l *loader) addUser(name, pass, nameAt, passAt string, readOnly bool) bool {
	for _, u := range l.users {
		if u.name == name {
			l.fail("user %q is defined twice, in %s and in %s: keep one of them", name, u.at, nameAt)
			return false
		}
	}
	if strings.TrimSpace(name) != name {
		l.warn("%s: the user's name %q has spaces around it, which are part of the name; remove them unless they are meant", nameAt, name)
	}
	if strings.TrimSpace(pass) != pass {
		l.warn("%s: the password of user %q has spaces around it, which are part of the password; remove them unless they are meant", passAt, name)
	}
	if utf8.RuneCountInString(pass) < MinPasswordChars {
		l.fail("%s: the password of user %q is shorter than %d characters, which a guessing attack can find; %s", passAt, name, MinPasswordChars, passwordAdvice)
		return false
	}
	l.users = append(l.users, user{
		name:     name,
		readOnly: readOnly,
		at:       nameAt,
		nameSum:  sha256.Sum256([]byte(name)),
		passSum:  sha256.Sum256([]byte(pass)),
	})
	return true
}

// addToken adds a Bearer token, already trimmed, read from at.
func (l *loader) addToken(tok, at string, readOnly bool) {
	switch {
	case tok == "":
		l.fail("%s is set but empty: set it to a token (%s), or unset it", at, tokenAdvice)
	case strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		l.fail("%s: the token contains a space or a control character, which an Authorization header cannot carry; %s", at, tokenAdvice)
	case len(tok) < minTokenBytes:
		l.fail("%s: the token is shorter than %d bytes; %s", at, minTokenBytes, tokenAdvice)
	default:
		l.tokens = append(l.tokens, token{at: at, sum: sha256.Sum256([]byte(tok)), readOnly: readOnly})
	}
}

// cause strips the operation and path from a file error, which the
// messages already name.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// shellQuote quotes a path for a shell command when it needs it.
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,=:@%", r)
	}
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !safe(r) }) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
