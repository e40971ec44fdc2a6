package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// Credentials are the accepted HTTP Basic users and Bearer tokens. They
// hold SHA-256 digests, never the secrets themselves, and are immutable
// after Load, so one value may serve any number of requests at once. A nil
// *Credentials is empty and accepts nobody.
type Credentials struct {
	users    []user
	tokens   []token
	warnings []string
	// compare compares two digests; nil means subtle.ConstantTimeCompare.
	// Tests replace it to count the comparisons.
	compare func(a, b []byte) int
}

// user is one HTTP Basic user.
type user struct {
	name string
	// readOnly users may only read (GET, HEAD).
	readOnly bool
	// at says where it was defined, for messages.
	at      string
	nameSum [sha256.Size]byte
	passSum [sha256.Size]byte
}

// token is one Bearer token.
type token struct {
	// at says where it was defined, for messages.
	at  string
	sum [sha256.Size]byte
	// readOnly tokens may only read (GET, HEAD).
	readOnly bool
}

// tokenUser is the user name Check and User give for a request
// authenticated by a Bearer token, and readTokenUser for a read-only one.
const (
	tokenUser     = "token"
	readTokenUser = "read-only token"
)

// Empty reports whether no credential is configured. A listener guarded
// by empty Credentials would refuse every request; the caller should
// refuse to start it instead.
func (c *Credentials) Empty() bool {
	return c == nil || len(c.users) == 0 && len(c.tokens) == 0
}

// Warnings lists what Load accepted but advises against, such as a
// password shorter than 12 characters, one sentence each, without
// secrets. The caller should print them at start-up.
func (c *Credentials) Warnings() []string {
	if c == nil || len(c.warnings) == 0 {
		return nil
	}
	return append([]string(nil), c.warnings...)
}

// Describe says which kinds of credentials are configured, without
// secrets, for a start-up log line: for example "Basic (1 user: admin),
// Bearer token", "Bearer tokens (2)", or "no credentials".
func (c *Credentials) Describe() string {
	if c.Empty() {
		return "no credentials"
	}
	var parts []string
	if n := len(c.users); n > 0 {
		names := make([]string, n)
		for i, u := range c.users {
			names[i] = u.name
			if u.readOnly {
				names[i] += " (read-only)"
			}
		}
		noun := "users"
		if n == 1 {
			noun = "user"
		}
		parts = append(parts, fmt.Sprintf("Basic (%d %s: %s)", n, noun, strings.Join(names, ", ")))
	}
	ro := 0
	for _, t := range c.tokens {
		if t.readOnly {
			ro++
		}
	}
	switch n := len(c.tokens); {
	case n == 1 && ro == 1:
		parts = append(parts, "Bearer token (read-only)")
	case n == 1:
		parts = append(parts, "Bearer token")
	case n > 1 && ro > 0:
		parts = append(parts, fmt.Sprintf("Bearer tokens (%d, %d read-only)", n, ro))
	case n > 1:
		parts = append(parts, fmt.Sprintf("Bearer tokens (%d)", n))
	}
	return strings.Join(parts, ", ")
}

// Check authenticates r by its Authorization header: "Basic" followed by
// base64 of user:password is checked against the users, "Bearer" followed
// by a token against the tokens. Scheme names are case-insensitive (RFC
// 7235). A request with several Authorization headers is refused.
//
// The comparison takes constant time: Check compares the SHA-256 digest of
// each given secret with the digest of every stored credential of the
// scheme presented, with subtle.ConstantTimeCompare, and never stops at the
// first match, so that its timing says nothing about which user, password
// or token came close.
//
// It returns the user's name, or "token" for a Bearer token, and whether
// the credentials are accepted; the name is "" when they are not.
func (c *Credentials) Check(r *http.Request) (user string, ok bool) {
	user, _, v := c.check(r)
	if v != accepted {
		return "", false
	}
	return user, true
}

// CheckRole is Check, and also says whether the credential is read-only:
// it may only read (GET and HEAD), never change anything.
func (c *Credentials) CheckRole(r *http.Request) (user string, readOnly, ok bool) {
	user, readOnly, v := c.check(r)
	if v != accepted {
		return "", false, false
	}
	return user, readOnly, true
}

// verdict is what check found, for Guard's answers and log lines.
type verdict int

const (
	accepted verdict = iota
	// noCredentials: no Authorization header.
	noCredentials
	// malformed: several Authorization headers, or one that does not
	// parse.
	malformed
	// otherScheme: neither Basic nor Bearer.
	otherScheme
	// unknownUser: Basic, with a name no user has.
	unknownUser
	// wrongPassword: Basic, with a known name and a wrong password.
	wrongPassword
	// wrongToken: Bearer, with no token equal to it.
	wrongToken
)

// check is CheckRole, saying why it refuses.
func (c *Credentials) check(r *http.Request) (string, bool, verdict) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", false, noCredentials
	case 1:
	default:
		return "", false, malformed
	}
	scheme, rest, found := strings.Cut(values[0], " ")
	rest = strings.Trim(rest, " \t")
	isBasic, isBearer := strings.EqualFold(scheme, "Basic"), strings.EqualFold(scheme, "Bearer")
	switch {
	case !isBasic && !isBearer:
		return "", false, otherScheme
	case !found || rest == "":
		return "", false, malformed
	case isBearer:
		if strings.ContainsAny(rest, " \t") {
			return "", false, malformed
		}
		if c == nil {
			return "", false, wrongToken
		}
		ok, readOnly := c.matchToken(rest)
		switch {
		case !ok:
			return "", false, wrongToken
		case readOnly:
			return readTokenUser, true, accepted
		}
		return tokenUser, false, accepted
	}
	decoded, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return "", false, malformed
	}
	name, pass, found := strings.Cut(string(decoded), ":")
	if !found {
		return "", false, malformed
	}
	if c == nil {
		return "", false, unknownUser
	}
	return c.matchUser(name, pass)
}

// eq compares two digests in constant time, giving 1 when equal.
func (c *Credentials) eq(a, b []byte) int {
	if c.compare != nil {
		return c.compare(a, b)
	}
	return subtle.ConstantTimeCompare(a, b)
}

// matchUser compares name and pass with every user, all of them, without
// a branch on a secret until the end.
func (c *Credentials) matchUser(name, pass string) (string, bool, verdict) {
	nameSum, passSum := sha256.Sum256([]byte(name)), sha256.Sum256([]byte(pass))
	known, match, index := 0, 0, 0
	for i := range c.users {
		u := &c.users[i]
		n := c.eq(nameSum[:], u.nameSum[:])
		p := c.eq(passSum[:], u.passSum[:])
		// Load refuses a name defined twice, so at most one user has n == 1.
		index = subtle.ConstantTimeSelect(n, i, index)
		known |= n
		match |= n & p
	}
	switch {
	case match == 1:
		return c.users[index].name, c.users[index].readOnly, accepted
	case known == 1:
		return c.users[index].name, false, wrongPassword
	}
	return "", false, unknownUser
}

// matchToken compares tok with every token, all of them, and says whether
// one matched and whether that one is read-only.
func (c *Credentials) matchToken(tok string) (ok, readOnly bool) {
	sum := sha256.Sum256([]byte(tok))
	match, ro := 0, 0
	for i := range c.tokens {
		m := c.eq(sum[:], c.tokens[i].sum[:])
		match |= m
		bit := 0
		if c.tokens[i].readOnly {
			bit = 1
		}
		ro |= m & bit
	}
	return match == 1, ro == 1
}
