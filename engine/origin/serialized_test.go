package origin

import (
	"strings"
	"testing"
)

// isSerializedBytewise is the definition isSerialized implements eight
// bytes at a time.
func isSerializedBytewise(o string) bool {
	if strings.ContainsFunc(o, func(r rune) bool { return r >= 'A' && r <= 'Z' }) {
		return false
	}
	return strings.Count(o, ":") == 1
}

func TestIsSerialized(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"https://app.example.com", true},
		{"https://App.example.com", false},
		{"https://app.example.coM", false},     // upper case in the tail
		{"https://app.example.com:443", false}, // explicit port
		{"http://localhost:8080", false},
		{"null", false},
		{"", false},
		{"https://app.example.com@", true},                 // not well-formed, but nothing to normalise
		{"https://\xc4\xb0.example.com", true},             // non-ASCII bytes are not letters
		{"https://\xda.example.com", true},                 // 0xda = 0x80|'Z': not a letter
		{"https://\xc1\xc2\xc3\xc4\xd0\xd5\xd9\xda", true}, // every lane with its high bit set
		{"HTTPS://APP.EXAMPLE.COM", false},
		{"https://[::1]", false},
		{"ab:cdefghijklmnop", true},
		{"abcdefgh:ijklmnop", true},
		{"abcdefghijklmno:", true},
		{"abcdefghijklmn::", false},
		{"@[`{Z", false}, // the bytes around 'A'..'Z'
		{"@[`{:", true},
	}
	for _, c := range cases {
		if got := isSerialized(c.in); got != c.want {
			t.Errorf("isSerialized(%q) = %v, want %v", c.in, got, c.want)
		}
		if ref := isSerializedBytewise(c.in); ref != c.want {
			t.Errorf("reference(%q) = %v, want %v: the case is wrong", c.in, ref, c.want)
		}
	}
	// Every byte value in every lane of a word.
	for b := 0; b < 256; b++ {
		for lane := 0; lane < 9; lane++ {
			s := []byte("https://abcdefgh")
			s = append(s[:8+lane%8], append([]byte{byte(b)}, s[8+lane%8:]...)...)
			if got, want := isSerialized(string(s)), isSerializedBytewise(string(s)); got != want {
				t.Fatalf("isSerialized(%q) = %v, byte-wise %v", s, got, want)
			}
		}
	}
}

func FuzzIsSerialized(f *testing.F) {
	for _, s := range []string{"https://app.example.com", "HTTP://x:1", "\xff\x80:A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isSerialized(s), isSerializedBytewise(s); got != want {
			t.Fatalf("isSerialized(%q) = %v, byte-wise %v", s, got, want)
		}
	})
}

// A short exact list is scanned, a longer one hashed: both must answer
// alike, for the forms normalising brings back to a listed origin and for
// the ones it does not.
func TestMatchShortAndLongExactLists(t *testing.T) {
	listed := []string{"https://app.example.com", "http://localhost:5173", "https://[::1]:8443"}
	long := append([]string{}, listed...)
	for i := 0; len(long) <= shortMax; i++ {
		long = append(long, "https://filler"+strings.Repeat("x", i)+".example.net")
	}
	build := func(raw []string) *Matcher {
		var pats []Pattern
		for _, r := range raw {
			p, err := ParsePattern(r)
			if err != nil {
				t.Fatal(err)
			}
			pats = append(pats, p)
		}
		return NewMatcher(pats, nil)
	}
	short, hashed := build(listed), build(long)
	if short.short == nil || hashed.short != nil {
		t.Fatalf("short list scanned: %v, long list scanned: %v; want true, false", short.short != nil, hashed.short != nil)
	}
	cases := map[string]bool{
		"https://app.example.com":      true,
		"HTTPS://APP.EXAMPLE.COM":      true, // same length, other case
		"https://app.example.com:443":  true, // default port
		"HTTPS://App.Example.Com:443":  true,
		"https://app.example.com:8443": false,
		"https://app.example.co":       false,
		"https://app.example.comm":     false,
		"https://app.example.org":      false, // same length, another origin
		"http://localhost:5173":        true,
		"http://LOCALHOST:5173":        true,
		"http://localhost:05173":       false, // leading zero
		"http://localhost:":            false,
		"https://[::1]:8443":           true,
		"https://[0:0::1]:8443":        false,
		"https://app.example.com.":     false,
		"null":                         false,
		"":                             false,
	}
	for o, want := range cases {
		if got := short.Match(o); got != want {
			t.Errorf("short list: Match(%q) = %v, want %v", o, got, want)
		}
		if got := hashed.Match(o); got != want {
			t.Errorf("hashed list: Match(%q) = %v, want %v", o, got, want)
		}
	}
}
