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
