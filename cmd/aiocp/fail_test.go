//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// wantFailure checks a failed run: exit 1, the message on stderr, no
// destination file and no temporary file in dir.
func wantFailure(t *testing.T, r result, msg, dst string) {
	t.Helper()
	if r.code != exitFail {
		t.Errorf("exit %d, want %d; stderr %q", r.code, exitFail, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "aiocp: ") || !strings.Contains(r.stderr, msg) {
		t.Errorf("stderr %q, want a message containing %q", r.stderr, msg)
	}
	if dst != "" {
		if _, err := os.Lstat(dst); err == nil {
			t.Errorf("%s exists after a failed copy", dst)
		}
		noLeftovers(t, filepath.Dir(dst))
	}
}

func TestFailMissingSource(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "dst")
	wantFailure(t, aiocp(t, filepath.Join(dir, "missing"), dst), "no such file or directory", dst)
}

// TestFailDirectorySource: a directory cannot be read as a file, by root
// or anybody.
func TestFailDirectorySource(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(t.TempDir(), "dst")
	wantFailure(t, aiocp(t, dir, dst), "is a directory", dst)
	wantFailure(t, aiocp(t, "-direct", dir, dst), "is a directory", dst)
}

// TestFailGoesOn: a failed source does not stop the others, and the exit
// code still says a copy failed.
func TestFailGoesOn(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	good, data := randomFile(t, dir, "good", 1000, 1)
	r := aiocp(t, "-q", filepath.Join(dir, "missing"), good, out)
	if r.code != exitFail || !strings.Contains(r.stderr, "missing") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	sameContent(t, filepath.Join(out, "good"), data)
}

func TestFailSameFile(t *testing.T) {
	src, data := randomFile(t, t.TempDir(), "src", 1000, 1)
	r := aiocp(t, src, src)
	if r.code != exitFail || !strings.Contains(r.stderr, "same file") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	sameContent(t, src, data)
}

// TestFailUnreadable copies a file its user may not read. Root reads any
// file whatever its mode, so as root the test runs the aiocp binary as
// nobody (uid 65534), which root may switch to; as anybody else it runs
// aiocp in the test's own process.
func TestFailUnreadable(t *testing.T) {
	dir, err := os.MkdirTemp("", "aiocp-unreadable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	src, _ := randomFile(t, dir, "secret", 100000, 1)
	if err := os.Chmod(src, 0); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst")
	if !isRoot() {
		wantFailure(t, aiocp(t, src, dst), "permission denied", dst)
		return
	}
	cmd := exec.Command(binary(t), src, dst)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatalf("aiocp as nobody: %v (%s)", err, stderr.String())
	}
	wantFailure(t, result{code: ee.ExitCode(), stderr: stderr.String()}, "permission denied", dst)
}

// TestFailDevFull writes to /dev/full, which is written in place and fails
// every write with ENOSPC. Its driver has no AIO write path (io_submit says
// EINVAL), so aiocp falls back to pwrite, which reports the real error.
func TestFailDevFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	src, _ := randomFile(t, t.TempDir(), "src", 200000, 1)
	for _, args := range [][]string{{src, "/dev/full"}, {"-direct", src, "/dev/full"}} {
		wantFailure(t, aiocp(t, args...), "write /dev/full: no space left on device", "")
	}
}

// TestFailTinyTmpfs copies 1 MiB onto a 64 KiB tmpfs, mounted in a private
// mount namespace (unshare -m) so the test touches no mount of the host.
// It needs root, unshare(1) and mount(8).
func TestFailTinyTmpfs(t *testing.T) {
	if !isRoot() {
		t.Skip("mounting a tmpfs needs root")
	}
	for _, tool := range []string{"unshare", "mount", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
	}
	bin := binary(t)
	src, _ := randomFile(t, t.TempDir(), "src", 1<<20, 1)
	mnt := t.TempDir()
	probe := exec.Command("unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs "+mnt)
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs in a private mount namespace: %v: %s", err, out)
	}
	for _, flag := range []string{"-q", "-direct"} {
		t.Run(flag, func(t *testing.T) {
			// List the mount after the copy: no file may be left there.
			script := `mount -t tmpfs -o size=64k tmpfs "$1" || exit 99
"$2" ` + flag + ` "$3" "$1/dst"; rc=$?
ls -A "$1" >&2
exit $rc`
			cmd := exec.Command("unshare", "-m", "sh", "-c", script, "sh", mnt, bin, src)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() == 99 {
				t.Fatalf("run: %v, stderr %q", err, stderr.String())
			}
			r := result{code: ee.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
			wantFailure(t, r, "no space left on device", "")
			if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 {
				t.Errorf("files left on the full tmpfs: %q", lines[1:])
			}
		})
	}
}

// TestFailInterrupted: a signal stops the copy, which leaves nothing.
func TestFailInterrupted(t *testing.T) {
	src, _ := randomFile(t, t.TempDir(), "src", 1<<20, 1)
	dst := filepath.Join(t.TempDir(), "dst")
	stop := make(chan os.Signal, 1)
	stop <- os.Interrupt
	var out, errb bytes.Buffer
	code := run([]string{src, dst}, &out, &errb, stop)
	wantFailure(t, result{code, out.String(), errb.String()}, "interrupted", dst)
}
