//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// build compiles aioexample into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aioexample")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// start runs bin with args and a pipe as standard input.
func start(t *testing.T, bin string, args ...string) (*exec.Cmd, *os.File, *strings.Builder) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = r
	out := new(strings.Builder)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() { w.Close(); cmd.Process.Kill() })
	return cmd, w, out
}

// finish waits for cmd, at most 20 s, and returns its output's lines.
func finish(t *testing.T, cmd *exec.Cmd, out *strings.Builder) []string {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("aioexample: %v\n%s", err, out)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("aioexample did not finish:\n%s", out)
	}
	return strings.Split(strings.TrimSpace(out.String()), "\n")
}

// descriptor matches a descriptor number in the output, which the golden
// files write N.
var descriptor = regexp.MustCompile(`descriptor \d+`)

// golden compares lines, descriptor numbers aside, with testdata's file.
func golden(t *testing.T, lines []string, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "aio7", name))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSpace(string(b)), "\n")
	got := make([]string, len(lines))
	for i, l := range lines {
		got[i] = descriptor.ReplaceAllString(l, "descriptor N")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("output differs from testdata/aio7/%s (-want +got):\n%s", name, diff)
	}
}

// TestTwoReadsOfStdin is the seed's run: two 20-byte reads of standard
// input, a pipe fed "abc\n" and later "x\n", give aio_return 4 and 2, with
// a completion signal each, the second read in progress in between.
func TestTwoReadsOfStdin(t *testing.T) {
	bin := build(t)
	cmd, w, out := start(t, bin, "/dev/stdin", "/dev/stdin")
	in, err := os.ReadFile(filepath.Join("..", "..", "testdata", "aio7", "two-reads.input"))
	if err != nil {
		t.Fatal(err)
	}
	first, second, _ := strings.Cut(string(in), "\n")
	time.Sleep(300 * time.Millisecond)
	w.Write([]byte(first + "\n"))
	time.Sleep(3500 * time.Millisecond) // one 3 s monitoring step with request 1 waiting
	w.Write([]byte(second))
	golden(t, finish(t, cmd, out), "two-reads.golden")
}

// TestQuitCancels: SIGQUIT cancels a read still waiting on the pipe; unlike
// glibc, goiocp really cancels it: "I/O canceled", "Canceled", -1.
func TestQuitCancels(t *testing.T) {
	bin := build(t)
	cmd, _, out := start(t, bin, "/dev/stdin")
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGQUIT)
	golden(t, finish(t, cmd, out), "quit.golden")
}
