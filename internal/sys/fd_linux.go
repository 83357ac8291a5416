//go:build linux

package sys

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// FdValid reports EBADF when fd is not an open file descriptor.
func FdValid(fd int) error {
	if fd < 0 {
		return Errno(syscall.EBADF)
	}
	for {
		_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return Errno(err.(syscall.Errno))
		}
		return nil
	}
}

// Signal sends sig to this process, as a SIGEV_SIGNAL notification does.
func Signal(sig syscall.Signal) error {
	return unix.Kill(unix.Getpid(), sig)
}

// Fsync ops of aio_fsync(3).
const (
	O_SYNC  = unix.O_SYNC
	O_DSYNC = unix.O_DSYNC
)

// MaxSignal is the highest signal number (SIGRTMAX).
const MaxSignal = 64

// CloseFd closes fd.
func CloseFd(fd int) error { return unix.Close(fd) }

// InMemory reports whether fd is a file of a memory file system (tmpfs,
// ramfs), whose I/O never waits for a device.
func InMemory(fd int) bool {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return false
	}
	return st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC
}

// FileID identifies an open file: its device and inode.
type FileID struct{ Dev, Ino uint64 }

// Identify returns the identity of the file open as fd. Its fstat goes
// through the scheduler like any system call that may block: on FUSE (or
// NFS) it can wait for the file's server to revalidate attributes, and a
// raw call would hold its P meanwhile, which a stop-the-world then waits
// for while the server, if in this process, can never run.
func Identify(fd int) (FileID, error) {
	id, _, err := Classify(fd)
	return id, err
}

// Dup returns a new close-on-exec fd for the file open as fd.
func Dup(fd int) (int, error) {
	for {
		nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		return nfd, err
	}
}
