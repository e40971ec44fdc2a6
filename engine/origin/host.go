package origin

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// canonicalHost returns the form in which browsers serialise a host (a
// lower-case ASCII host that checkHost accepted), or a reason when no
// browser can have a page on it. Browsers parse hosts with the WHATWG URL
// parser: a host whose last label is a number is an IPv4 address in any
// of the forms inet_aton accepts (127.1, 0x7f.0.0.1, 017700000001) and is
// sent as a dotted quad; an IPv6 address is sent in its shortest form; a
// label starting with xn-- must be valid punycode.
func canonicalHost(h string) (string, string) {
	if h[0] == '[' {
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", fmt.Sprintf("%s is not a valid IPv6 address", h)
		}
		return "[" + serializeIPv6(a.As16()) + "]", ""
	}
	if endsInNumber(h) {
		v, ok := parseIPv4(h)
		if !ok {
			return "", fmt.Sprintf("%q ends in a number, so browsers read it as an IPv4 address, and it is not a valid one", h)
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String(), ""
	}
	for label := range strings.SplitSeq(h, ".") {
		if strings.HasPrefix(label, "xn--") {
			if _, err := idna.Lookup.ToUnicode(label); err != nil {
				return "", fmt.Sprintf("the label %q is not valid punycode, so no browser can load a page there", label)
			}
		}
	}
	return h, ""
}

// isIPv4 reports whether the host is a dotted-quad IPv4 address.
func isIPv4(h string) bool {
	a, err := netip.ParseAddr(h)
	return err == nil && a.Is4()
}

// endsInNumber reports whether the WHATWG URL parser treats the host as an
// IPv4 address: its last label is all digits or a 0x hexadecimal number.
func endsInNumber(h string) bool {
	last := h
	if i := strings.LastIndexByte(h, '.'); i >= 0 {
		last = h[i+1:]
	}
	if last == "" {
		return false
	}
	if allDigits(last) {
		return true
	}
	if strings.HasPrefix(last, "0x") {
		for i := 2; i < len(last); i++ {
			if !isHexDigit(last[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// parseIPv4 is the WHATWG IPv4 parser: one to four parts, each decimal,
// octal (leading 0) or hexadecimal (0x); the last part fills the
// remaining bytes.
func parseIPv4(h string) (uint32, bool) {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return 0, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		base, digits := 10, p
		switch {
		case strings.HasPrefix(p, "0x"):
			base, digits = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		if digits == "" {
			if base == 10 {
				return 0, false
			}
			continue // "0x" alone is 0
		}
		n, err := strconv.ParseUint(digits, base, 64)
		if err != nil || n > 1<<32 {
			return 0, false
		}
		nums[i] = n
	}
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return 0, false
		}
		v |= n << (8 * (3 - i))
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return 0, false
	}
	return uint32(v + last), true
}

// serializeIPv6 writes an IPv6 address as the WHATWG URL serializer does:
// eight groups of lower-case hexadecimal without leading zeros, the first
// longest run of two or more zero groups replaced by "::", and never an
// embedded IPv4 form.
func serializeIPv6(b [16]byte) string {
	var g [8]uint16
	for i := range g {
		g[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	bestStart, bestLen := -1, 1
	for i := 0; i < 8; {
		if g[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && g[j] == 0 {
			j++
		}
		if j-i > bestLen {
			bestStart, bestLen = i, j-i
		}
		i = j
	}
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		if i == bestStart {
			sb.WriteString("::")
			i += bestLen - 1
			continue
		}
		if sb.Len() > 0 && !strings.HasSuffix(sb.String(), ":") {
			sb.WriteByte(':')
		}
		sb.WriteString(strconv.FormatUint(uint64(g[i]), 16))
	}
	return sb.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
}
