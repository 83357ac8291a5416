//go:build linux

package httpd

import (
	"strconv"
	"strings"
)

// byteRange is the part of a file a response carries.
type byteRange struct{ start, length int64 }

// Outcomes of parseRange.
const (
	rangeNone  = iota // no usable Range: the whole file, 200
	rangeOK           // one satisfiable range: 206
	rangeUnsat        // no byte of the file is in it: 416
)

// parseRange reads a Range header for a file of size bytes. Only a single
// "bytes=" range is served; a list of ranges, another unit or a malformed
// value is ignored (RFC 9110 14.2 lets a server ignore Range), so the
// whole file is sent.
func parseRange(h string, size int64) (byteRange, int) {
	const unit = "bytes="
	if len(h) < len(unit) || !strings.EqualFold(h[:len(unit)], unit) {
		return byteRange{}, rangeNone
	}
	spec := strings.TrimSpace(h[len(unit):])
	if strings.Contains(spec, ",") {
		return byteRange{}, rangeNone
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return byteRange{}, rangeNone
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		// A suffix: the last n bytes.
		n, ok := digits(last)
		if !ok {
			return byteRange{}, rangeNone
		}
		if n == 0 || size == 0 {
			return byteRange{}, rangeUnsat
		}
		n = min(n, size)
		return byteRange{size - n, n}, rangeOK
	}
	a, ok := digits(first)
	if !ok {
		return byteRange{}, rangeNone
	}
	b := int64(-1)
	if last != "" {
		if b, ok = digits(last); !ok || b < a {
			return byteRange{}, rangeNone
		}
	}
	if a >= size {
		return byteRange{}, rangeUnsat
	}
	if b < 0 || b >= size {
		b = size - 1
	}
	return byteRange{a, b - a + 1}, rangeOK
}

// digits parses a non-empty run of ASCII digits that fits an int64.
func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
