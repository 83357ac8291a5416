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

// TestNothingOutsideRoot tries every spelling of a way out of the root:
// dot segments plain and percent-encoded (once and twice), encoded
// slashes and backslashes, NUL bytes, absolute paths and absolute-form
// targets, and symbolic links leading out (to a file, to a directory, by a
// relative path, to /etc, through /proc magic links). Each is refused or
// not found, and no response carries the secret that lies next to the root.
func TestNothingOutsideRoot(t *testing.T) {
	s := newSite(t, t.TempDir())
	srv, _ := server(t, s.root, httpd.Config{})
	targets := []string{
		"/../outside/passwd",
		"/..%2foutside%2fpasswd",
		"/%2e%2e/outside/passwd",
		"/%2E%2E/outside/passwd",
		"/sub/../../outside/passwd",
		"/sub/%2e%2e/%2e%2e/outside/passwd",
		"/%252e%252e/outside/passwd",
		"/.%2e/outside/passwd",
		"/..%5coutside%5cpasswd",
		"/..\\outside\\passwd",
		"/hello.txt%00.html",
		"/%00",
		"//outside/passwd",
		"/./hello.txt",
		"http://x/../outside/passwd",
		"http://x/%2e%2e/outside/passwd",
		"../outside/passwd",
		"outside/passwd",
		"*",
		"/out-file",
		"/out-dir/passwd",
		"/out-rel",
		"/sub/up/passwd",
		"/etc/passwd",
		"/etc/hostname",
		"/proc-self/etc/passwd",
	}
	for _, target := range targets {
		for _, method := range []string{"GET", "HEAD"} {
			c, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, method+" "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			b, err := io.ReadAll(c)
			c.Close()
			if err != nil {
				t.Fatalf("%s %s: %v", method, target, err)
			}
			resp := string(b)
			status, _, _ := strings.Cut(resp, "\r\n")
			if status != "HTTP/1.1 400 Bad Request" && status != "HTTP/1.1 404 Not Found" {
				t.Errorf("%s %q: %q, want 400 or 404", method, target, status)
			}
			if strings.Contains(resp, secret) || strings.Contains(resp, "root:") {
				t.Fatalf("%s %q served a file outside the root:\n%s", method, target, resp)
			}
		}
	}
}

// TestHeaderTimeout: a client that sends half a request header and stalls
// is cut off once the header timeout has passed, and one that sends
// nothing after a response is cut off after the idle timeout; meanwhile
// the server serves others.
func TestHeaderTimeout(t *testing.T) {
	s := newSite(t, t.TempDir())
	const timeout = 300 * time.Millisecond
	srv, base := server(t, s.root, httpd.Config{HeaderTimeout: timeout, IdleTimeout: 2 * timeout})
	closedAfter := func(prefix string) time.Duration {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		io.WriteString(c, prefix)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, c) // until the server closes
		return time.Since(start)
	}
	var wg sync.WaitGroup
	var slow, idle, none time.Duration
	wg.Go(func() { slow = closedAfter("GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ") })
	wg.Go(func() { idle = closedAfter("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n") })
	wg.Go(func() { none = closedAfter("") })
	hc := client(t)
	for range 5 {
		get(t, hc, "GET", base+"/hello.txt")
	}
	hc.CloseIdleConnections()
	wg.Wait()
	for _, tc := range []struct {
		name     string
		got, min time.Duration
	}{{"half a header", slow, timeout}, {"no request", none, timeout}, {"idle after a response", idle, 2 * timeout}} {
		if tc.got < tc.min || tc.got > tc.min+time.Second {
			t.Errorf("%s: cut off after %v, want %v (+ a sweep)", tc.name, tc.got, tc.min)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); srv.Conns() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.Conns(); n > 0 {
		t.Errorf("%d connections left open", n)
	}
}

// TestSlowloris: a client that sends one header byte every 50 ms never
// gets past the header timeout, whatever it keeps sending.
func TestSlowloris(t *testing.T) {
	s := newSite(t, t.TempDir())
	const timeout = 300 * time.Millisecond
	srv, _ := server(t, s.root, httpd.Config{HeaderTimeout: timeout})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	req := "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 200)
	for i := 0; i < len(req); i++ {
		if _, err := c.Write([]byte{req[i]}); err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
		if time.Since(start) > 5*time.Second {
			t.Fatal("still open after 5 s")
		}
	}
	if d := time.Since(start); d < timeout || d > timeout+time.Second {
		t.Errorf("cut off after %v, want %v", d, timeout)
	}
}

// TestMaxConns: with the limit reached, one more connection is answered
// 503 and closed; once one closes, a new one is served.
func TestMaxConns(t *testing.T) {
	s := newSite(t, t.TempDir())
	srv, base := server(t, s.root, httpd.Config{MaxConns: 2})
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	for deadline := time.Now().Add(5 * time.Second); srv.Conns() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	c.Close()
	if !strings.HasPrefix(string(b), "HTTP/1.1 503 ") {
		t.Fatalf("connection over the limit got %q", b)
	}
	held[0].Close()
	for deadline := time.Now().Add(5 * time.Second); srv.Conns() > 1 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if resp, _ := get(t, client(t), "GET", base+"/hello.txt"); resp.StatusCode != 200 {
		t.Fatalf("below the limit again: %d", resp.StatusCode)
	}
}
