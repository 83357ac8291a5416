//go:build linux

package httpd

import (
	"net/http"
	"strings"
)

// target turns a request's path into a path relative to the root, or the
// status that refuses it. It refuses, rather than cleans, every spelling a
// client that is not probing never sends: "." and ".." segments (however
// encoded: the URL is decoded first), NUL bytes, backslashes, encoded
// slashes, and targets that are not absolute paths. What passes is opened
// beneath the root by the kernel (RESOLVE_BENEATH), which refuses the rest:
// symbolic links that lead out.
func target(req *http.Request) (rel string, dir bool, status int) {
	if req.URL == nil || req.URL.Opaque != "" {
		return "", false, http.StatusBadRequest
	}
	raw := req.URL.EscapedPath()
	if strings.Contains(raw, "%2f") || strings.Contains(raw, "%2F") ||
		strings.Contains(raw, "%5c") || strings.Contains(raw, "%5C") {
		return "", false, http.StatusBadRequest
	}
	p := req.URL.Path
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\\") {
		return "", false, http.StatusBadRequest
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "." || seg == ".." {
			return "", false, http.StatusBadRequest
		}
	}
	rel = strings.TrimLeft(p, "/")
	dir = rel == "" || strings.HasSuffix(rel, "/")
	if rel == "" {
		rel = "."
	}
	return rel, dir, 0
}
