//go:build linux

package httpd_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/httpd"
	"github.com/goiocp/goiocp/internal/testutil"
)

// secret is the content of a file outside every test root: no response
// may ever carry it.
const secret = "TOP-SECRET-outside-the-root"

// site is a test root: files of several sizes, directories with and
// without index.html, a FIFO, and links that stay in or lead out.
type site struct {
	root  string
	files map[string][]byte // name under root -> content
}

// sizes of the site's files: empty, around a page, around a chunk, and
// many chunks with a ragged end.
var sizes = []int{0, 1, 4095, 4096, 4097, 65536, 200_001, 1<<20 + 3}

func newSite(t testing.TB, parent string) *site {
	t.Helper()
	s := &site{root: filepath.Join(parent, "www"), files: map[string][]byte{}}
	outside := filepath.Join(parent, "outside")
	for _, d := range []string{s.root, outside, filepath.Join(s.root, "sub"), filepath.Join(s.root, "empty")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(s.root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		s.files[name] = data
	}
	for i, n := range sizes {
		write(fmt.Sprintf("f%d.bin", n), testutil.Pattern(uint64(i+1), n))
	}
	write("hello.txt", []byte("hello, world\n"))
	write("sub/index.html", []byte("<h1>sub</h1>\n"))
	write("sub/page.html", []byte("<p>page</p>\n"))
	if err := os.WriteFile(filepath.Join(outside, "passwd"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{
		"out-file":  filepath.Join(outside, "passwd"),
		"out-dir":   outside,
		"out-rel":   "../outside/passwd",
		"sub/up":    "../../outside",
		"in-link":   "hello.txt",
		"etc":       "/etc",
		"proc-self": "/proc/self/root",
	} {
		if err := os.Symlink(to, filepath.Join(s.root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := mkfifo(filepath.Join(s.root, "fifo")); err != nil {
		t.Fatal(err)
	}
	return s
}

// server starts a server over root with cfg's other fields, shut down at
// cleanup (gracefully, within 10 s).
func server(t testing.TB, root string, cfg httpd.Config) (*httpd.Server, string) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.Root = root
	srv, err := httpd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !strings.Contains(err.Error(), "already") {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv, "http://" + srv.Addr().String()
}

// client is an http.Client whose connections close with the test.
func client(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get does a request with the given header fields and returns the
// response with its body read.
func get(t testing.TB, c *http.Client, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
	}
	return resp, body
}

// raw sends bytes on a new connection and returns the responses read
// until the server closes it (or the deadline).
func raw(t testing.TB, addr, request string, n int) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d of %q: %v", len(out), request, err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d: body: %v", len(out), err)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
	}
	return out
}

func bodyOf(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// lockedWriter is an access log the workers may write at once.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
