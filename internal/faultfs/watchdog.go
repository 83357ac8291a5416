//go:build linux

package faultfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The watchdog exists because the FUSE server runs inside the process whose
// tests use the mount. If that process dies (a panic, a test timeout) while
// one of its threads waits in a synchronous system call on a request the
// server holds, the kernel waits for the answer uninterruptibly
// (fs/fuse/dev.c request_wait_answer: a request already sent to user space
// is waited out), the server's goroutines are gone, and the dying process
// never finishes exiting: `go test` hangs forever. A small shell process
// polls the test process and, once it is exiting (a thread with SIGKILL
// pending, as exit_group leaves them, or a zombie main thread) or gone,
// aborts the connection through fusectl, which fails the pending requests
// and lets the process exit, and detaches the dead mount.
const watchdogScript = `p=$1; c=$2; m=$3
dying() {
	[ -d /proc/$p ] || return 0
	for s in /proc/$p/task/*/status; do
		st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' $s 2>/dev/null)
		[ "$st" = Z ] && return 0
		v=$(sed -n 's/^SigPnd:[[:space:]]*//p' $s 2>/dev/null)
		[ -n "$v" ] && [ $(( 0x${v#????????????} & 256 )) -ne 0 ] && return 0
	done
	return 1
}
while [ -d "$c" ]; do
	if dying; then echo 1 > "$c/abort"; umount -l "$m" 2>/dev/null; exit 0; fi
	sleep 0.5
done`

// fusectlDir is where fusectl shows the FUSE connections.
const fusectlDir = "/sys/fs/fuse/connections"

// connDir returns the fusectl directory of the connection mounted on mnt,
// mounting fusectl first if it is not mounted yet, or "" if there is none.
func connDir(mnt string) string {
	var st syscall.Stat_t
	if err := syscall.Stat(mnt, &st); err != nil {
		return ""
	}
	d := filepath.Join(fusectlDir, strconv.FormatUint(uint64(unix.Minor(st.Dev)), 10))
	if _, err := os.Stat(d); err != nil {
		_ = unix.Mount("fusectl", fusectlDir, "fusectl", 0, "")
	}
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

// startWatchdog starts the watchdog of the mount on mnt; where it cannot
// (no fusectl, no sh), it logs why and returns nil.
func startWatchdog(t testing.TB, mnt string) *exec.Cmd {
	d := connDir(mnt)
	if d == "" {
		t.Logf("faultfs: no fusectl connection directory for %s: no watchdog", mnt)
		return nil
	}
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "faultfs-watchdog", strconv.Itoa(os.Getpid()), d, mnt)
	if err := cmd.Start(); err != nil {
		t.Logf("faultfs: start watchdog: %v", err)
		return nil
	}
	return cmd
}

// stopWatchdog ends a watchdog started by startWatchdog.
func stopWatchdog(cmd *exec.Cmd) {
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}
