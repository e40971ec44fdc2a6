package auth_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/admin/auth"
)

// fakeEnv is a Getenv reading m.
func fakeEnv(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

// file describes a credential file a test creates.
type file struct {
	content string
	mode    os.FileMode
	// missing leaves the file out; dir makes it a directory.
	missing, dir bool
}

// create makes f in dir as name and returns its path ("" for a nil f).
func (f *file) create(t *testing.T, dir, name string) string {
	t.Helper()
	if f == nil {
		return ""
	}
	path := filepath.Join(dir, name)
	switch {
	case f.missing:
	case f.dir:
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
	default:
		mode := f.mode
		if mode == 0 {
			mode = 0o600
		}
		if err := os.WriteFile(path, []byte(f.content), mode); err != nil {
			t.Fatal(err)
		}
		// WriteFile's mode passes through the umask; set it exactly.
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// problems splits a joined error into its problems.
func problems(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

const (
	goodPassword = "correct-horse-battery"
	goodToken    = "0123456789abcdef0123456789abcdef"
)

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		basic, token *file
		// want are substrings of the error; {basic} and {token} stand for
		// the files' paths.
		want []string
		// problems is how many problems the error joins.
		problems int
		// secrets must not appear in the error.
		secrets []string
	}{
		{
			name:     "user without password",
			env:      map[string]string{auth.EnvUser: "admin"},
			want:     []string{`CORSGATE_ADMIN_USER is set (to "admin") but CORSGATE_ADMIN_PASSWORD is not`, "never accepts an empty password", "set CORSGATE_ADMIN_PASSWORD to that user's password", "or unset CORSGATE_ADMIN_USER"},
			problems: 1,
		},
		{
			name:     "password without user",
			env:      map[string]string{auth.EnvPassword: goodPassword},
			want:     []string{"CORSGATE_ADMIN_PASSWORD is set but CORSGATE_ADMIN_USER is not", "set CORSGATE_ADMIN_USER to the name of the user"},
			problems: 1,
			secrets:  []string{goodPassword},
		},
		{
			name:     "blank user",
			env:      map[string]string{auth.EnvUser: "  ", auth.EnvPassword: goodPassword},
			want:     []string{"CORSGATE_ADMIN_USER is set but empty", "or unset it"},
			problems: 1,
			secrets:  []string{goodPassword},
		},
		{
			name:     "blank password",
			env:      map[string]string{auth.EnvUser: "admin", auth.EnvPassword: " \t"},
			want:     []string{"CORSGATE_ADMIN_PASSWORD is set but empty", "never accepts an empty password"},
			problems: 1,
		},
		{
			name:     "blank token",
			env:      map[string]string{auth.EnvToken: "   "},
			want:     []string{"CORSGATE_ADMIN_TOKEN is set but empty", "openssl rand -hex 24"},
			problems: 1,
		},
		{
			name:     "user name with a colon",
			env:      map[string]string{auth.EnvUser: "ad:min", auth.EnvPassword: goodPassword},
			want:     []string{`CORSGATE_ADMIN_USER "ad:min" contains ':'`, "choose a name without ':'"},
			problems: 1,
			secrets:  []string{goodPassword},
		},
		{
			name:     "short password in the environment, with the command that makes a good one",
			env:      map[string]string{auth.EnvUser: "admin", auth.EnvPassword: "hunter2"},
			want:     []string{`CORSGATE_ADMIN_PASSWORD: the password of user "admin" is shorter than 16 characters`, "openssl rand -base64 18"},
			problems: 1,
			secrets:  []string{"hunter2"},
		},
		{
			name:     "short read-only password",
			env:      map[string]string{auth.EnvReadUser: "viewer", auth.EnvReadPassword: "tiny7"},
			want:     []string{`CORSGATE_ADMIN_READ_PASSWORD: the password of user "viewer" is shorter than 16 characters`},
			problems: 1,
			secrets:  []string{"tiny7"},
		},
		{
			name:     "short token in the environment",
			env:      map[string]string{auth.EnvToken: "s3cr3t-t0k"},
			want:     []string{"CORSGATE_ADMIN_TOKEN: the token is shorter than 16 bytes; use at least 16 random bytes, for example: openssl rand -hex 24"},
			problems: 1,
			secrets:  []string{"s3cr3t-t0k"},
		},
		{
			name:     "token with a space",
			env:      map[string]string{auth.EnvToken: "0123456789abcdef 0123456789"},
			want:     []string{"CORSGATE_ADMIN_TOKEN: the token contains a space or a control character"},
			problems: 1,
			secrets:  []string{"0123456789abcdef 0123456789"},
		},
		{
			name:     "basic_auth_file missing",
			basic:    &file{missing: true},
			want:     []string{"basic_auth_file {basic}: cannot be read (no such file or directory)", `fix the path of "basic_auth_file" in the corsgate/admin block`},
			problems: 1,
		},
		{
			name:     "token_file is a directory",
			token:    &file{dir: true},
			want:     []string{"token_file {token}: not a regular file", `name the file that holds the credentials in "token_file"`},
			problems: 1,
		},
		{
			name:     "basic_auth_file readable by others",
			basic:    &file{content: "admin:" + goodPassword + "\n", mode: 0o644},
			want:     []string{"basic_auth_file {basic}: group or others may read or write this file (mode 0644)", "run chmod 600 {basic}"},
			problems: 1,
			secrets:  []string{goodPassword},
		},
		{
			name:     "token_file readable by its group",
			token:    &file{content: goodToken + "\n", mode: 0o640},
			want:     []string{"token_file {token}: group or others may read or write this file (mode 0640)", "run chmod 600 {token}"},
			problems: 1,
			secrets:  []string{goodToken},
		},
		{
			name:     "token_file writable by others",
			token:    &file{content: goodToken + "\n", mode: 0o602},
			want:     []string{"(mode 0602)", "run chmod 600 {token}"},
			problems: 1,
			secrets:  []string{goodToken},
		},
		{
			name:     "basic_auth_file line without a colon",
			basic:    &file{content: "# users\nadmin:" + goodPassword + "\njustapassword\n"},
			want:     []string{"basic_auth_file {basic}:3: no ':' between the user's name and the password; write each user as name:password"},
			problems: 1,
			secrets:  []string{"justapassword", goodPassword},
		},
		{
			name:     "basic_auth_file line with an empty user",
			basic:    &file{content: "\n:" + goodPassword + "\n"},
			want:     []string{"basic_auth_file {basic}:2: the user's name is empty"},
			problems: 1,
			secrets:  []string{goodPassword},
		},
		{
			name:     "basic_auth_file line with an empty password",
			basic:    &file{content: "ops:\r\n"},
			want:     []string{`basic_auth_file {basic}:1: the password of user "ops" is empty`, "never accepts an empty password"},
			problems: 1,
		},
		{
			name:     "basic_auth_file without users",
			basic:    &file{content: "# nobody yet\n\n"},
			want:     []string{"basic_auth_file {basic}: no user in the file", `or remove "basic_auth_file" from the corsgate/admin block`},
			problems: 1,
		},
		{
			name:     "token_file without a token",
			token:    &file{content: "\n  \n"},
			want:     []string{"token_file {token}: no token in the file", "openssl rand -hex 24"},
			problems: 1,
		},
		{
			name:     "short token in token_file",
			token:    &file{content: "\n s3cr3t-t0k \n"},
			want:     []string{"token_file {token}: the token is shorter than 16 bytes; use at least 16 random bytes"},
			problems: 1,
			secrets:  []string{"s3cr3t-t0k"},
		},
		{
			name:     "user twice in basic_auth_file",
			basic:    &file{content: "ops:" + goodPassword + "-1\nops:" + goodPassword + "-2\n"},
			want:     []string{`user "ops" is defined twice, in basic_auth_file {basic}:1 and in basic_auth_file {basic}:2: keep one of them`},
			problems: 1,
			secrets:  []string{goodPassword},
		},
		{
			name:     "user in the environment and in basic_auth_file",
			env:      map[string]string{auth.EnvUser: "admin", auth.EnvPassword: goodPassword},
			basic:    &file{content: "admin:other-" + goodPassword + "\n"},
			want:     []string{`user "admin" is defined twice, in CORSGATE_ADMIN_USER and in basic_auth_file {basic}:1`},
			problems: 1,
			secrets:  []string{goodPassword},
		},
		{
			name:  "every problem at once",
			env:   map[string]string{auth.EnvUser: "admin", auth.EnvToken: "tiny"},
			basic: &file{content: "bob\n", mode: 0o644},
			token: &file{missing: true},
			want: []string{
				"CORSGATE_ADMIN_USER is set",
				"CORSGATE_ADMIN_TOKEN: the token is shorter than 16 bytes",
				"basic_auth_file {basic}: group or others may read or write",
				"basic_auth_file {basic}:1: no ':'",
				"token_file {token}: cannot be read",
			},
			problems: 5,
			secrets:  []string{"tiny"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := auth.Sources{
				BasicAuthFile: tt.basic.create(t, dir, "users"),
				TokenFile:     tt.token.create(t, dir, "token"),
				Getenv:        fakeEnv(tt.env),
			}
			c, err := auth.Load(s)
			if err == nil {
				t.Fatalf("Load accepted it: %s", c.Describe())
			}
			if c != nil {
				t.Errorf("Load returned credentials with its error: %s", c.Describe())
			}
			msg := err.Error()
			for _, w := range tt.want {
				w = strings.NewReplacer("{basic}", s.BasicAuthFile, "{token}", s.TokenFile).Replace(w)
				if !strings.Contains(msg, w) {
					t.Errorf("the error lacks %q; it is:\n%s", w, msg)
				}
			}
			if n := len(problems(err)); n != tt.problems {
				t.Errorf("%d problems, want %d:\n%s", n, tt.problems, msg)
			}
			for _, secret := range tt.secrets {
				if strings.Contains(msg, secret) {
					t.Errorf("the error shows the secret %q:\n%s", secret, msg)
				}
			}
		})
	}
}

// basicHeader is an Authorization header for HTTP Basic.
func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestLoadAccepts(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		basic, token *file
		describe     string
		// warnings are substrings of the warnings, one each, in order.
		warnings []string
		// accept are Authorization headers Check accepts, with the user.
		accept map[string]string
		// secrets must not appear in the warnings nor in Describe.
		secrets []string
	}{
		{
			name:     "nothing configured",
			describe: "no credentials",
		},
		{
			name:     "Basic from the environment",
			env:      map[string]string{auth.EnvUser: "admin", auth.EnvPassword: goodPassword},
			describe: "Basic (1 user: admin)",
			accept:   map[string]string{basicHeader("admin", goodPassword): "admin"},
			secrets:  []string{goodPassword},
		},
		{
			name:     "read-only credentials from the environment",
			env:      map[string]string{auth.EnvReadUser: "viewer", auth.EnvReadPassword: "viewer-" + goodPassword, auth.EnvReadToken: "read-" + goodToken},
			describe: "Basic (1 user: viewer (read-only)), Bearer token (read-only)",
			accept:   map[string]string{basicHeader("viewer", "viewer-"+goodPassword): "viewer", "Bearer read-" + goodToken: "read-only token"},
			secrets:  []string{goodPassword, goodToken},
		},
		{
			name:     "token from the environment, trimmed",
			env:      map[string]string{auth.EnvToken: " " + goodToken + "\n"},
			describe: "Bearer token",
			accept:   map[string]string{"Bearer " + goodToken: "token"},
			secrets:  []string{goodToken},
		},
		{
			name: "basic_auth_file with comments, blank lines, CRLF and a colon in a password",
			basic: &file{content: "# the admins\r\n\r\n  # indented comment\nalice:" + goodPassword + "\r\n" +
				"bob:pa:ss:" + goodPassword + "\n", mode: 0o400},
			describe: "Basic (2 users: alice, bob)",
			accept: map[string]string{
				basicHeader("alice", goodPassword):        "alice",
				basicHeader("bob", "pa:ss:"+goodPassword): "bob",
			},
			secrets: []string{goodPassword},
		},
		{
			name:     "spaces around a name and a password are kept, with warnings",
			basic:    &file{content: " carol : " + goodPassword + " \n"},
			describe: "Basic (1 user:  carol )",
			warnings: []string{`basic_auth_file {basic}:1: the user's name " carol " has spaces around it`, `basic_auth_file {basic}:1: the password of user " carol " has spaces around it`},
			accept:   map[string]string{basicHeader(" carol ", " "+goodPassword+" "): " carol "},
			secrets:  []string{goodPassword},
		},
		{
			name:     "token_file, first non-empty line, trimmed",
			token:    &file{content: "\n\n  " + goodToken + "  \r\nignored-second-line-0123456789\n"},
			describe: "Bearer token",
			accept:   map[string]string{"Bearer " + goodToken: "token"},
			secrets:  []string{goodToken},
		},
		{
			name: "every source",
			env: map[string]string{
				auth.EnvUser: "admin", auth.EnvPassword: goodPassword,
				auth.EnvToken: goodToken,
			},
			basic:    &file{content: "alice:alice-" + goodPassword + "\nbob:bob-" + goodPassword + "\n"},
			token:    &file{content: "file-" + goodToken + "\n"},
			describe: "Basic (3 users: admin, alice, bob), Bearer tokens (2)",
			accept: map[string]string{
				basicHeader("admin", goodPassword):          "admin",
				basicHeader("alice", "alice-"+goodPassword): "alice",
				basicHeader("bob", "bob-"+goodPassword):     "bob",
				"Bearer " + goodToken:                       "token",
				"Bearer file-" + goodToken:                  "token",
			},
			secrets: []string{goodPassword, goodToken},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := auth.Sources{
				BasicAuthFile: tt.basic.create(t, dir, "users"),
				TokenFile:     tt.token.create(t, dir, "token"),
				Getenv:        fakeEnv(tt.env),
			}
			c, err := auth.Load(s)
			if err != nil {
				t.Fatalf("Load refused it:\n%v", err)
			}
			if got := c.Describe(); got != tt.describe {
				t.Errorf("Describe() = %q, want %q", got, tt.describe)
			}
			if c.Empty() != (tt.describe == "no credentials") {
				t.Errorf("Empty() = %v with %s", c.Empty(), tt.describe)
			}
			warnings := c.Warnings()
			if len(warnings) != len(tt.warnings) {
				t.Errorf("%d warnings, want %d: %q", len(warnings), len(tt.warnings), warnings)
			}
			for i := range min(len(warnings), len(tt.warnings)) {
				w := strings.ReplaceAll(tt.warnings[i], "{basic}", s.BasicAuthFile)
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %d is %q, want it to contain %q", i, warnings[i], w)
				}
			}
			shown := strings.Join(append(warnings, c.Describe()), "\n")
			for _, secret := range tt.secrets {
				if strings.Contains(shown, secret) {
					t.Errorf("the warnings or the description show the secret %q:\n%s", secret, shown)
				}
			}
			for header, want := range tt.accept {
				r := httptest.NewRequest("GET", "http://127.0.0.1:9091/", nil)
				r.Header.Set("Authorization", header)
				if got, ok := c.Check(r); !ok || got != want {
					t.Errorf("Check(%q) = %q, %v; want %q, true", header, got, ok, want)
				}
			}
		})
	}
}

// TestLoadWarningsAreCopies holds Credentials immutable: changing the
// slice Warnings returns changes nothing.
func TestLoadWarningsAreCopies(t *testing.T) {
	c, err := auth.Load(auth.Sources{Getenv: fakeEnv(map[string]string{auth.EnvUser: " admin", auth.EnvPassword: goodPassword})})
	if err != nil {
		t.Fatal(err)
	}
	w := c.Warnings()
	if len(w) != 1 {
		t.Fatalf("warnings %q, want one", w)
	}
	w[0] = "changed"
	if got := c.Warnings()[0]; got == "changed" {
		t.Error("Warnings returned the Credentials' own slice")
	}
}

// TestLoadProcessEnvironment reads the real environment (Getenv nil),
// where a variable set to "" can be told from one not set.
func TestLoadProcessEnvironment(t *testing.T) {
	tests := []struct {
		name string
		// env maps a variable to its value; a variable not in it is unset.
		env      map[string]string
		want     string // a substring of the error, or "" for none
		describe string
	}{
		{name: "nothing set", describe: "no credentials"},
		{name: "token set to empty", env: map[string]string{auth.EnvToken: ""}, want: "CORSGATE_ADMIN_TOKEN is set but empty"},
		{name: "password set to empty", env: map[string]string{auth.EnvUser: "admin", auth.EnvPassword: ""}, want: "CORSGATE_ADMIN_PASSWORD is set but empty"},
		{name: "user set to empty", env: map[string]string{auth.EnvUser: "", auth.EnvPassword: goodPassword}, want: "CORSGATE_ADMIN_USER is set but empty"},
		{name: "user without password", env: map[string]string{auth.EnvUser: "admin"}, want: "CORSGATE_ADMIN_PASSWORD is not"},
		{name: "user and token", env: map[string]string{auth.EnvUser: "admin", auth.EnvPassword: goodPassword, auth.EnvToken: goodToken}, describe: "Basic (1 user: admin), Bearer token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{auth.EnvUser, auth.EnvPassword, auth.EnvToken} {
				t.Setenv(name, "") // restored after the test
				if v, ok := tt.env[name]; ok {
					os.Setenv(name, v)
				} else {
					os.Unsetenv(name)
				}
			}
			c, err := auth.Load(auth.Sources{})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Load error %v, want one containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Describe(); got != tt.describe {
				t.Errorf("Describe() = %q, want %q", got, tt.describe)
			}
		})
	}
}

func TestNilCredentials(t *testing.T) {
	var c *auth.Credentials
	r := httptest.NewRequest("GET", "http://127.0.0.1:9091/", nil)
	r.Header.Set("Authorization", basicHeader("admin", goodPassword))
	if user, ok := c.Check(r); ok || user != "" {
		t.Errorf("nil Credentials accepted %q", user)
	}
	if !c.Empty() || c.Describe() != "no credentials" || c.Warnings() != nil {
		t.Errorf("nil Credentials: Empty %v, Describe %q, Warnings %q", c.Empty(), c.Describe(), c.Warnings())
	}
}

// TestAdviceIsAccepted follows the advice Load prints for a weak secret:
// it reads the openssl command out of the error, makes a secret the way
// that command would, and checks that Load accepts it.
func TestAdviceIsAccepted(t *testing.T) {
	cases := []struct {
		name   string
		weak   map[string]string
		envVar string // the variable the generated secret goes into
	}{
		{"password", map[string]string{auth.EnvUser: "admin", auth.EnvPassword: "short"}, auth.EnvPassword},
		{"token", map[string]string{auth.EnvToken: "short"}, auth.EnvToken},
		{"read-only token", map[string]string{auth.EnvReadToken: "short"}, auth.EnvReadToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := auth.Load(auth.Sources{Getenv: fakeEnv(c.weak)})
			if err == nil {
				t.Fatal("a five-character secret was accepted")
			}
			secret := followOpenssl(t, err.Error())
			env := map[string]string{}
			for k, v := range c.weak {
				env[k] = v
			}
			env[c.envVar] = secret
			if _, err := auth.Load(auth.Sources{Getenv: fakeEnv(env)}); err != nil {
				t.Fatalf("the advised secret %q (%d characters) is refused: %v", secret, len(secret), err)
			}
		})
	}
}

// followOpenssl finds "openssl rand -base64 N" or "openssl rand -hex N" in
// msg and returns what that command would print for N random bytes.
func followOpenssl(t *testing.T, msg string) string {
	t.Helper()
	i := strings.Index(msg, "openssl rand -")
	if i < 0 {
		t.Fatalf("no openssl command in %q", msg)
	}
	var enc string
	var n int
	if _, err := fmt.Sscanf(msg[i:], "openssl rand -%s %d", &enc, &n); err != nil {
		t.Fatalf("cannot read the command in %q: %v", msg[i:], err)
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	switch enc {
	case "base64":
		return base64.StdEncoding.EncodeToString(b)
	case "hex":
		return hex.EncodeToString(b)
	}
	t.Fatalf("unknown encoding %q in %q", enc, msg[i:])
	return ""
}
