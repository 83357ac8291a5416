//go:build linux

package httpd_test

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/httpd"
)

// FuzzRequest sends arbitrary bytes as a request on a connection of a
// running server and closes its sending side. The server must answer or
// close the connection promptly (never crash, hang a worker, or serve
// outside the root), and serve a good request right after.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /f200001.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=4095-8193\r\n\r\nGET /sub HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /sub/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\n",
		"GET /../outside/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /%2e%2e/outside/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /out-file HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /hello.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Mon, 02 Jan 2006 15:04:05 GMT\r\nRange: bytes=-5\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789",
		"\r\n\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("y", 5000) + "\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	s := newSite(f, f.TempDir())
	srv, base := server(f, s.root, httpd.Config{HeaderTimeout: time.Second, MaxHeaderBytes: 4096, ChunkSize: 4096})
	addr := srv.Addr().String()
	hc := client(f)
	var mu sync.Mutex // one input at a time: the check after each is about it
	f.Fuzz(func(t *testing.T, in []byte) {
		mu.Lock()
		defer mu.Unlock()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(in)
		c.(*net.TCPConn).CloseWrite()
		out, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("the server neither answered nor closed within 5 s: %v (%d bytes)", err, len(out))
		}
		if strings.Contains(string(out), secret) {
			t.Fatalf("served a file outside the root for %q", in)
		}
		if len(out) > 0 && !strings.HasPrefix(string(out), "HTTP/1.1 ") {
			t.Fatalf("answer does not start with a status line: %q", out[:min(len(out), 64)])
		}
		if resp, body := get(t, hc, "GET", base+"/hello.txt"); resp.StatusCode != 200 || string(body) != "hello, world\n" {
			t.Fatalf("after %q: %d %q", in, resp.StatusCode, body)
		}
	})
}
