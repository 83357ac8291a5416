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

// match checks lines against patterns, one regexp per line.
func match(t *testing.T, lines []string, patterns []string) {
	t.Helper()
	if len(lines) != len(patterns) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(patterns), strings.Join(lines, "\n"))
	}
	for i, p := range patterns {
		if !regexp.MustCompile("^" + p + "$").MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %q", i, lines[i], p)
		}
	}
}

// TestTwoReadsOfStdin is the seed's run: two 20-byte reads of standard
// input, a pipe fed "abc\n" and later "x\n", give aio_return 4 and 2, with
// a completion signal each, the second read in progress in between.
func TestTwoReadsOfStdin(t *testing.T) {
	bin := build(t)
	cmd, w, out := start(t, bin, "/dev/stdin", "/dev/stdin")
	time.Sleep(300 * time.Millisecond)
	w.Write([]byte("abc\n"))
	time.Sleep(3500 * time.Millisecond) // one 3 s monitoring step with request 1 waiting
	w.Write([]byte("x\n"))
	lines := finish(t, cmd, out)
	match(t, lines, []string{
		`opened /dev/stdin on descriptor (\d+)`,
		`opened /dev/stdin on descriptor (\d+)`,
		`I/O completion signal received`,
		`aio_error\(\):`,
		` for request 0 \(descriptor \d+\): I/O succeeded`,
		` for request 1 \(descriptor \d+\): In progress`,
		`aio_error\(\):`,
		` for request 1 \(descriptor \d+\): In progress`,
		`I/O completion signal received`,
		`aio_error\(\):`,
		` for request 1 \(descriptor \d+\): I/O succeeded`,
		`All I/O requests completed`,
		`aio_return\(\):`,
		` for request 0 \(descriptor \d+\): 4`,
		` for request 1 \(descriptor \d+\): 2`,
	})
}

// TestQuitCancels: SIGQUIT cancels a read still waiting on the pipe; unlike
// glibc, goiocp really cancels it: "I/O canceled", "Canceled", -1.
func TestQuitCancels(t *testing.T) {
	bin := build(t)
	cmd, _, out := start(t, bin, "/dev/stdin")
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGQUIT)
	lines := finish(t, cmd, out)
	match(t, lines, []string{
		`opened /dev/stdin on descriptor \d+`,
		`got SIGQUIT; canceling I/O requests: `,
		` Request 0 on descriptor \d+:I/O canceled`,
		`aio_error\(\):`,
		` for request 0 \(descriptor \d+\): Canceled`,
		`All I/O requests completed`,
		`aio_return\(\):`,
		` for request 0 \(descriptor \d+\): -1`,
	})
}
