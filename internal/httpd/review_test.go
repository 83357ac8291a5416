//go:build linux

package httpd_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/httpd"
	"github.com/goiocp/goiocp/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestSpecialFilesNeverOpened: a FIFO and a device node in the root are
// answered 404 without being opened. A writer blocked in open(2) on the
// FIFO is released by the first reader to open it, so it must still be
// blocked after the server has answered.
func TestSpecialFilesNeverOpened(t *testing.T) {
	s := newSite(t, t.TempDir())
	srv, _ := server(t, s.root, httpd.Config{})
	opened := make(chan struct{})
	go func() {
		f, err := os.OpenFile(filepath.Join(s.root, "fifo"), os.O_WRONLY, 0)
		if err == nil {
			f.Close()
		}
		close(opened)
	}()
	if r := raw(t, srv.Addr().String(), "GET /fifo HTTP/1.1\r\nHost: x\r\n\r\n", 1)[0]; r.StatusCode != 404 {
		t.Errorf("fifo: %d", r.StatusCode)
	}
	select {
	case <-opened:
		t.Fatal("the server opened the FIFO")
	case <-time.After(200 * time.Millisecond):
	}
	if f, err := os.OpenFile(filepath.Join(s.root, "fifo"), os.O_RDONLY, 0); err == nil {
		<-opened
		f.Close()
	}
	if testutil.IsRoot() {
		if err := unix.Mknod(filepath.Join(s.root, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
		if r := raw(t, srv.Addr().String(), "GET /null HTTP/1.1\r\nHost: x\r\n\r\n", 1)[0]; r.StatusCode != 404 {
			t.Errorf("device node: %d", r.StatusCode)
		}
	}
}

// TestLingerBounded: a client that sends an endless body to a 405 gets its
// answer and is cut off soon, not read for as long as it sends.
func TestLingerBounded(t *testing.T) {
	s := newSite(t, t.TempDir())
	srv, _ := server(t, s.root, httpd.Config{})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
	done := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		junk := make([]byte, 64<<10)
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, err := c.Write(junk); err != nil {
				done <- time.Since(start)
				return
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 4096)
	n, _ := c.Read(b)
	if !strings.HasPrefix(string(b[:n]), "HTTP/1.1 405 ") {
		t.Fatalf("answer %q", b[:n])
	}
	if d := <-done; d > 3*time.Second {
		t.Errorf("the sender was read for %v", d)
	}
}

// TestRedirectStaysOnHost: a directory named like a host, asked for as
// "//host", redirects to "/host/", never to "//host/" (another host for a
// browser).
func TestRedirectStaysOnHost(t *testing.T) {
	s := newSite(t, t.TempDir())
	if err := os.Mkdir(filepath.Join(s.root, "evil.example"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv, _ := server(t, s.root, httpd.Config{})
	r := raw(t, srv.Addr().String(), "GET //evil.example HTTP/1.1\r\nHost: x\r\n\r\n", 1)[0]
	if r.StatusCode != 301 || r.Header.Get("Location") != "/evil.example/" {
		t.Errorf("%d, Location %q", r.StatusCode, r.Header.Get("Location"))
	}
}
