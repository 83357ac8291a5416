//go:build linux

package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/testutil"
)

// TestMain lets the test binary be iocphttpd itself, for the tests that
// run it as a process and signal it, and runs the tests on each engine.
func TestMain(m *testing.M) {
	if os.Getenv("IOCPHTTPD_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(testutil.OnEachEngine(m.Run))
}

// start runs iocphttpd with args as a child process and returns it with the
// address it serves on.
func start(t *testing.T, args ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "IOCPHTTPD_TEST_MAIN=1")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() {
		t.Fatal("iocphttpd printed nothing")
	}
	line := sc.Text()
	_, url, ok := strings.Cut(line, " on http://")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	go io.Copy(io.Discard, stderr)
	return cmd, url, &stdout
}

// TestSignalShutdown runs the server, starts a large response, sends
// SIGTERM, and checks that the response completes, that the access log has
// its line, and that the process exits 0.
func TestSignalShutdown(t *testing.T) {
	root := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB
	if err := os.WriteFile(filepath.Join(root, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, addr, stdout := start(t, "-root", root, "-log", "-workers", "2")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(200 * time.Millisecond) // the response is under way
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(body, big) {
		t.Fatalf("response in flight at SIGTERM: %d bytes, %v", len(body), err)
	}
	c.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if !strings.Contains(stdout.String(), `"GET /big.bin HTTP/1.1" 200 33554432 `) {
		t.Errorf("access log: %q", stdout.String())
	}
}

// TestFlags checks the flag errors and the size parser.
func TestFlags(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-max-header-bytes", "lots"}, io.Discard, &out); code != 2 {
		t.Errorf("bad size: exit %d", code)
	}
	if code := run([]string{"-root", "/nonexistent/dir", "-addr", "127.0.0.1:0"}, io.Discard, &out); code != 1 ||
		!strings.Contains(out.String(), "/nonexistent/dir") {
		t.Errorf("bad root: exit %d, %q", code, out.String())
	}
	if code := run([]string{"-stats", "-stats-every", "0"}, io.Discard, &out); code != 2 {
		t.Errorf("-stats-every 0: exit %d", code)
	}
	for in, want := range map[string]int{"65536": 65536, "64KiB": 64 << 10, "1MiB": 1 << 20, "8K": 8192} {
		var s sizeFlag
		if err := s.Set(in); err != nil || int(s) != want {
			t.Errorf("%q: %d, %v; want %d", in, s, err, want)
		}
	}
}
