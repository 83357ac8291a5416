//go:build linux

package httpd_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/httpd"
	"github.com/goiocp/goiocp/internal/testutil"
)

// TestWholeFiles serves every file of the site byte for byte, buffered
// and O_DIRECT, from the disk and from tmpfs, with chunks small enough
// that the large files take many reads.
func TestWholeFiles(t *testing.T) {
	for _, fs := range testutil.FileSystems(t) {
		s := newSite(t, fs.Dir)
		for _, direct := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/direct=%v", fs.Name, direct), func(t *testing.T) {
				_, base := server(t, s.root, httpd.Config{Direct: direct, ChunkSize: 16 << 10})
				c := client(t)
				for name, want := range s.files {
					resp, body := get(t, c, "GET", base+"/"+name)
					if resp.StatusCode != 200 {
						t.Fatalf("%s: status %d", name, resp.StatusCode)
					}
					if i := testutil.Equal(body, want); i >= 0 || len(body) != len(want) {
						t.Fatalf("%s: %d bytes, want %d; first difference at %d", name, len(body), len(want), i)
					}
					if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(want)) {
						t.Errorf("%s: Content-Length %q", name, cl)
					}
					if resp.Header.Get("Last-Modified") == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
						t.Errorf("%s: header %v", name, resp.Header)
					}
				}
				resp, _ := get(t, c, "GET", base+"/hello.txt")
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("hello.txt: Content-Type %q", ct)
				}
				resp, _ = get(t, c, "GET", base+"/f1.bin")
				if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
					t.Errorf("f1.bin: Content-Type %q", ct)
				}
			})
		}
	}
}

// TestRanges checks single ranges, suffixes, open ends, ranges a broken
// O_DIRECT alignment would shift, unsatisfiable ranges (416) and ranges
// the server ignores (200).
func TestRanges(t *testing.T) {
	s := newSite(t, t.TempDir())
	name := "f200001.bin"
	data := s.files[name]
	size := int64(len(data))
	cases := []struct {
		h          string
		code       int
		start, end int64 // the bytes expected, [start, end)
	}{
		{"bytes=0-0", 206, 0, 1},
		{"bytes=10-99", 206, 10, 100},
		{"bytes=4095-8193", 206, 4095, 8194},
		{"bytes=12345-", 206, 12345, size},
		{"bytes=-100", 206, size - 100, size},
		{"bytes=-999999999", 206, 0, size},
		{"bytes=199990-300000", 206, 199990, size},
		{"BYTES=1-2", 206, 1, 3},
		{"bytes=200001-", 416, 0, 0},
		{"bytes=-0", 416, 0, 0},
		{"bytes=0-1,5-6", 200, 0, size},
		{"bytes=5-1", 200, 0, size},
		{"bytes=abc", 200, 0, size},
		{"items=0-1", 200, 0, size},
	}
	for _, direct := range []bool{false, true} {
		_, base := server(t, s.root, httpd.Config{Direct: direct, ChunkSize: 16 << 10})
		c := client(t)
		for _, tc := range cases {
			resp, body := get(t, c, "GET", base+"/"+name, "Range", tc.h)
			if resp.StatusCode != tc.code {
				t.Errorf("direct=%v %q: status %d, want %d", direct, tc.h, resp.StatusCode, tc.code)
				continue
			}
			switch tc.code {
			case 416:
				if cr := resp.Header.Get("Content-Range"); cr != "bytes */"+strconv.FormatInt(size, 10) {
					t.Errorf("%q: Content-Range %q", tc.h, cr)
				}
				continue
			case 206:
				want := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end-1, size)
				if cr := resp.Header.Get("Content-Range"); cr != want {
					t.Errorf("%q: Content-Range %q, want %q", tc.h, cr, want)
				}
			}
			if !bytes.Equal(body, data[tc.start:tc.end]) {
				t.Errorf("direct=%v %q: %d bytes, not the file's [%d, %d)", direct, tc.h, len(body), tc.start, tc.end)
			}
		}
	}
}

// TestHeadAndConditional checks HEAD (the GET's header, no body),
// If-Modified-Since (304 when not newer) and If-Range.
func TestHeadAndConditional(t *testing.T) {
	s := newSite(t, t.TempDir())
	_, base := server(t, s.root, httpd.Config{})
	c := client(t)
	resp, body := get(t, c, "HEAD", base+"/f4097.bin")
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") != "4097" {
		t.Fatalf("HEAD: %d, %d bytes, Content-Length %q", resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
	}
	lm := resp.Header.Get("Last-Modified")
	resp, body = get(t, c, "GET", base+"/f4097.bin", "If-Modified-Since", lm)
	if resp.StatusCode != 304 || len(body) != 0 {
		t.Errorf("If-Modified-Since = Last-Modified: %d, %d bytes", resp.StatusCode, len(body))
	}
	old := "Mon, 02 Jan 2006 15:04:05 GMT"
	if resp, _ = get(t, c, "GET", base+"/f4097.bin", "If-Modified-Since", old); resp.StatusCode != 200 {
		t.Errorf("If-Modified-Since in 2006: %d", resp.StatusCode)
	}
	if resp, _ = get(t, c, "GET", base+"/f4097.bin", "Range", "bytes=0-9", "If-Range", lm); resp.StatusCode != 206 {
		t.Errorf("If-Range = Last-Modified: %d", resp.StatusCode)
	}
	if resp, _ = get(t, c, "GET", base+"/f4097.bin", "Range", "bytes=0-9", "If-Range", old); resp.StatusCode != 200 {
		t.Errorf("If-Range older: %d", resp.StatusCode)
	}
	if resp, _ = get(t, c, "HEAD", base+"/nope"); resp.StatusCode != 404 {
		t.Errorf("HEAD /nope: %d", resp.StatusCode)
	}
}

// TestStatuses sends a request for each status the server answers and
// checks the status line, the fields it needs and a short body; after
// each, the server goes on serving.
func TestStatuses(t *testing.T) {
	s := newSite(t, t.TempDir())
	srv, base := server(t, s.root, httpd.Config{MaxHeaderBytes: 4096})
	addr := srv.Addr().String()
	cases := []struct {
		name, req string
		code      int
		field     string // name: value expected
		closes    bool
	}{
		{"garbage", "HELLO\r\n\r\n", 400, "", true},
		{"bad version", "GET / HTTP/x\r\n\r\n", 400, "", true},
		{"no host", "GET /hello.txt HTTP/1.1\r\n\r\n", 400, "", true},
		{"not found", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, "", false},
		{"post", "POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 405, "Allow: GET, HEAD", true},
		{"delete", "DELETE /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", 405, "Allow: GET, HEAD", false},
		{"get with body", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 413, "", true},
		{"chunked get", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 413, "", true},
		{"huge header", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n", 431, "", true},
		{"http2", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "", true},
		{"dir redirect", "GET /sub?q=1 HTTP/1.1\r\nHost: x\r\n\r\n", 301, "Location: /sub/?q=1", false},
		{"dir index", "GET /sub/ HTTP/1.1\r\nHost: x\r\n\r\n", 200, "Content-Type: text/html; charset=utf-8", false},
		{"dir without index", "GET /empty/ HTTP/1.1\r\nHost: x\r\n\r\n", 404, "", false},
		{"fifo", "GET /fifo HTTP/1.1\r\nHost: x\r\n\r\n", 404, "", false},
		{"in-root link", "GET /in-link HTTP/1.1\r\nHost: x\r\n\r\n", 200, "Content-Length: 13", false},
		{"http/1.0", "GET /hello.txt HTTP/1.0\r\n\r\n", 200, "", true},
		{"http/1.0 keep-alive", "GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, "Connection: keep-alive", false},
		{"connection close", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, "", true},
		{"leading empty lines", "\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200, "", false},
		{"bare LF", "GET /hello.txt HTTP/1.1\nHost: x\n\n", 200, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := raw(t, addr, tc.req, 1)[0]
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.code)
			}
			if tc.field != "" {
				k, v, _ := strings.Cut(tc.field, ": ")
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if resp.Close != tc.closes {
				t.Errorf("closes the connection: %v, want %v", resp.Close, tc.closes)
			}
			if b := bodyOf(resp); tc.code >= 400 && b != fmt.Sprintf("%d %s\n", tc.code, http.StatusText(tc.code)) {
				t.Errorf("body %q", b)
			}
		})
	}
	if resp, body := get(t, client(t), "GET", base+"/hello.txt"); resp.StatusCode != 200 || string(body) != "hello, world\n" {
		t.Fatalf("after the bad requests: %d %q", resp.StatusCode, body)
	}
}

// TestKeepAliveAndPipelining sends requests one after the other on one
// connection, then five at once (pipelined); the responses come back in
// order, each with its own body.
func TestKeepAliveAndPipelining(t *testing.T) {
	s := newSite(t, t.TempDir())
	srv, base := server(t, s.root, httpd.Config{ChunkSize: 4096})
	c := client(t)
	for range 5 {
		get(t, c, "GET", base+"/f4096.bin")
	}
	st := srv.Stats()
	conns := 0
	for range st {
		conns = srv.Conns()
	}
	if conns != 1 {
		t.Errorf("after 5 requests with keep-alive: %d connections, want 1", conns)
	}
	names := []string{"f4097.bin", "hello.txt", "nope", "f0.bin", "f65536.bin"}
	var req strings.Builder
	for _, n := range names {
		fmt.Fprintf(&req, "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", n)
	}
	for i, resp := range raw(t, srv.Addr().String(), req.String(), len(names)) {
		want, ok := s.files[names[i]]
		body := bodyOf(resp)
		switch {
		case !ok && resp.StatusCode != 404:
			t.Errorf("%s: status %d", names[i], resp.StatusCode)
		case ok && (resp.StatusCode != 200 || body != string(want)):
			t.Errorf("response %d (%s): status %d, %d bytes, want %d", i, names[i], resp.StatusCode, len(body), len(want))
		}
	}
}

// TestAccessLog checks one line per request, with the client's target
// quoted so that it cannot forge a line.
func TestAccessLog(t *testing.T) {
	s := newSite(t, t.TempDir())
	var log lockedWriter
	srv, base := server(t, s.root, httpd.Config{Log: &log})
	c := client(t)
	get(t, c, "GET", base+"/hello.txt")
	get(t, c, "GET", base+"/nope")
	raw(t, srv.Addr().String(), "GET /a\"b%0a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 1)
	var lines []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if lines = strings.Split(strings.TrimSpace(log.String()), "\n"); len(lines) >= 3 {
			break
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3:\n%s", len(lines), log.String())
	}
	for i, want := range []string{`"GET /hello.txt HTTP/1.1" 200 13 `, `"GET /nope HTTP/1.1" 404 14 `, `"GET /a\"b%0a HTTP/1.1" 404 `} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d %q lacks %q", i, lines[i], want)
		}
	}
}
