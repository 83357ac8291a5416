//go:build linux

package httpd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/faultfs"
	"github.com/goiocp/goiocp/internal/httpd"
	"github.com/goiocp/goiocp/internal/testutil"
)

// TestThousandConnections holds 1,000 connections open at once, each
// making requests for a file, and checks every byte, with the server's
// OS threads staying few (no thread or goroutine per connection).
func TestThousandConnections(t *testing.T) {
	s := newSite(t, t.TempDir())
	srv, _ := server(t, s.root, httpd.Config{Direct: true})
	threads0 := testutil.Threads(t)
	const n = 1000
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
		defer c.Close()
		conns[i] = c
	}
	want := s.files["f4097.bin"]
	req := []byte("GET /f4097.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for _, c := range conns {
		wg.Go(func() {
			<-start
			c.SetDeadline(time.Now().Add(30 * time.Second))
			for range 3 {
				if _, err := c.Write(req); err != nil {
					errs <- err
					return
				}
				resp := make([]byte, 4097+512)
				got, err := readResponse(c, resp)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.HasSuffix(got, want) || !bytes.HasPrefix(got, []byte("HTTP/1.1 200 OK\r\n")) {
					errs <- fmt.Errorf("wrong response of %d bytes", len(got))
					return
				}
			}
		})
	}
	for deadline := time.Now().Add(10 * time.Second); srv.Conns() < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := srv.Conns(); got != n {
		t.Fatalf("%d connections open, want %d", got, n)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if th := testutil.Threads(t); th > threads0+8 {
		t.Errorf("threads %d with 1,000 connections, %d before", th, threads0)
	}
	// io_uring's io-wq workers (O_DIRECT reads the device could not take
	// at once) are the kernel's, bounded per ring: reported, not counted.
	t.Logf("threads: %d before, %d after; io-wq workers %d", threads0, testutil.Threads(t), testutil.IOWorkers(t))
}

// readResponse reads one response whose header has Content-Length.
func readResponse(c net.Conn, buf []byte) ([]byte, error) {
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
			var cl int
			for _, line := range strings.Split(string(buf[:i]), "\r\n") {
				if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
					fmt.Sscan(v, &cl)
				}
			}
			if n >= i+4+cl {
				return buf[:n], nil
			}
		}
		if err != nil {
			return buf[:n], err
		}
		if n == len(buf) {
			return buf[:n], errors.New("response larger than expected")
		}
	}
}

// TestGracefulShutdown: with a large response in flight to a client that
// has not read yet and an idle keep-alive connection, Shutdown stops
// accepting at once, closes the idle connection, lets the response finish
// whole, and returns nil once it has.
func TestGracefulShutdown(t *testing.T) {
	s := newSite(t, t.TempDir())
	big := testutil.Pattern(99, 32<<20) // more than the socket buffers hold
	if err := os.WriteFile(filepath.Join(s.root, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0", Root: s.root})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	for deadline := time.Now().Add(5 * time.Second); srv.Conns() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the response fills the socket buffers

	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	idle.SetDeadline(time.Now().Add(2 * time.Second))
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil || os.IsTimeout(err) {
		t.Errorf("idle connection: read %d, %v; want it closed at once", n, err)
	}
	time.Sleep(100 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("a connection was accepted after Shutdown began")
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a response in flight", err)
	default:
	}
	slow.SetDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufioReader(slow), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(body, big) {
		t.Errorf("response in flight: %d bytes, %v; want all %d", len(body), err, len(big))
	}
	if n, err := slow.Read(make([]byte, 1)); n != 0 || err == nil || os.IsTimeout(err) {
		t.Errorf("after its response: read %d, %v; want the connection closed", n, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(2 * time.Second): // the server's linger ends it
		t.Fatal("Shutdown did not return after the last response")
	}
}

// TestShutdownDeadline: a client that never reads its response is cut
// when Shutdown's context ends, and Shutdown says so.
func TestShutdownDeadline(t *testing.T) {
	s := newSite(t, t.TempDir())
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0", Root: s.root})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 64 {
		io.WriteString(c, "GET /f1048579.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
}

// TestFileErrors serves files of the fault-injection FUSE file system:
// a read failing with EIO before the header is out is a 500, short reads
// are continued, and a slow file delays only its own responses.
func TestFileErrors(t *testing.T) {
	fsys := faultfs.Mount(t, faultfs.Options{})
	data := testutil.Pattern(7, 300_000)
	bad := fsys.AddFile("bad.bin", data)
	bad.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 0, Len: 1 << 30, Err: syscall.EIO})
	short := fsys.AddFile("short.bin", data)
	short.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 0, Len: 1 << 30, Short: 1000})
	slow := fsys.AddFile("slow.bin", data[:4096])
	slow.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 0, Len: 1 << 30, Delay: 500 * time.Millisecond})
	fsys.AddFile("ok.bin", data)
	_, base := server(t, fsys.Dir, httpd.Config{ChunkSize: 64 << 10})
	c := client(t)
	if resp, body := get(t, c, "GET", base+"/bad.bin"); resp.StatusCode != 500 || string(body) != "500 Internal Server Error\n" {
		t.Errorf("EIO: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, c, "GET", base+"/short.bin"); resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Errorf("short reads: %d, %d bytes", resp.StatusCode, len(body))
	}
	slowDone := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		get(t, client(t), "GET", base+"/slow.bin")
		slowDone <- time.Since(start)
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if resp, body := get(t, c, "GET", base+"/ok.bin"); resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Errorf("ok.bin beside a slow file: %d, %d bytes", resp.StatusCode, len(body))
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("ok.bin took %v while slow.bin's read waited", d)
	}
	if d := <-slowDone; d < 400*time.Millisecond {
		t.Errorf("slow.bin took %v, want its 500 ms delay", d)
	}
}

// TestCurl fetches with curl, where installed: a whole file, a range and
// a HEAD, as a user would check a server.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (.ci/run installs it)")
	}
	s := newSite(t, t.TempDir())
	_, base := server(t, s.root, httpd.Config{Direct: true})
	out, err := exec.Command(curl, "-sS", "--fail", base+"/f200001.bin").Output()
	if err != nil || !bytes.Equal(out, s.files["f200001.bin"]) {
		t.Errorf("curl whole file: %v, %d bytes", err, len(out))
	}
	out, err = exec.Command(curl, "-sS", "--fail", "-r", "100-4195", base+"/f200001.bin").Output()
	if err != nil || !bytes.Equal(out, s.files["f200001.bin"][100:4196]) {
		t.Errorf("curl range: %v, %d bytes", err, len(out))
	}
	out, err = exec.Command(curl, "-sS", "-I", base+"/hello.txt").Output()
	if err != nil || !strings.Contains(string(out), "Content-Length: 13") || !strings.HasPrefix(string(out), "HTTP/1.1 200 OK") {
		t.Errorf("curl -I: %v\n%s", err, out)
	}
	out, err = exec.Command(curl, "-sS", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", base+"/../outside/passwd").Output()
	if err != nil || string(out) != "400" {
		t.Errorf("curl --path-as-is /../: %v %q", err, out)
	}
}

// TestMalformedBesideGood: clients sending garbage at the same time as
// good ones never disturb the good ones.
func TestMalformedBesideGood(t *testing.T) {
	s := newSite(t, t.TempDir())
	srv, base := server(t, s.root, httpd.Config{MaxHeaderBytes: 4096})
	var wg sync.WaitGroup
	junk := []string{"\x00\x01\x02\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
		strings.Repeat("A", 10000), "GET /" + strings.Repeat("x", 5000) + " HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n: x\r\n\r\n"}
	for range 20 {
		for _, j := range junk {
			wg.Go(func() {
				c, err := net.Dial("tcp", srv.Addr().String())
				if err != nil {
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.WriteString(c, j)
				io.Copy(io.Discard, c)
			})
		}
	}
	hc := client(t)
	for range 50 {
		if resp, body := get(t, hc, "GET", base+"/f4096.bin"); resp.StatusCode != 200 || len(body) != 4096 {
			t.Fatalf("good client: %d, %d bytes", resp.StatusCode, len(body))
		}
	}
	wg.Wait()
}

// TestAcceptGoroutine runs the server with the acceptor goroutine instead
// of the OpPoll: 200 connections at once are served, and Shutdown ends the
// goroutine blocked in accept (TestMain's leak check sees it gone).
func TestAcceptGoroutine(t *testing.T) {
	s := newSite(t, t.TempDir())
	srv, base := server(t, s.root, httpd.Config{AcceptGoroutine: true})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 200 {
		wg.Go(func() {
			resp, err := http.Get(base + "/f4096.bin")
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || !bytes.Equal(b, s.files["f4096.bin"]) {
				errs <- fmt.Errorf("%d bytes, %v", len(b), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("accepted after Shutdown")
	}
}
