//go:build linux

package httpd

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// FuzzTarget checks the path rule: whatever the request line, a path that
// passes is relative, and none of its segments is "." or "..".
func FuzzTarget(f *testing.F) {
	for _, s := range []string{"/a/b", "/../x", "/%2e%2e/x", "//x", "/a%2fb", "/a/./b", "http://h/../x", "/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		req, err := http.ReadRequest(bufioOf("GET " + uri + " HTTP/1.1\r\nHost: x\r\n\r\n"))
		if err != nil {
			return
		}
		rel, _, status := target(req)
		if status != 0 {
			return
		}
		if strings.HasPrefix(rel, "/") || strings.ContainsAny(rel, "\x00\\") {
			t.Fatalf("%q -> %q", uri, rel)
		}
		for seg := range strings.SplitSeq(rel, "/") {
			if seg == ".." || (seg == "." && rel != ".") {
				t.Fatalf("%q -> %q has a dot segment", uri, rel)
			}
		}
	})
}

// FuzzRange checks parseRange: a range it accepts lies inside the file and
// is not empty; one it calls unsatisfiable starts past the end.
func FuzzRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-1", "bytes=5-", "bytes=1-0", "bytes=9223372036854775807-", "bytes=0-1,2-3"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			return
		}
		r, outcome := parseRange(h, size)
		switch outcome {
		case rangeOK:
			if r.start < 0 || r.length <= 0 || r.start+r.length > size {
				t.Fatalf("%q size %d -> %+v", h, size, r)
			}
		case rangeUnsat:
			first, _, _ := strings.Cut(strings.TrimSpace(h[len("bytes="):]), "-")
			if a, err := strconv.ParseInt(strings.TrimSpace(first), 10, 64); err == nil && a < size {
				t.Fatalf("%q size %d: unsatisfiable, but byte %d is inside", h, size, a)
			}
		}
	})
}
