//go:build linux

package sys

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Kinds of open file, as Classify tells them apart.
const (
	KindFile   = 0 // has a position: regular files, block devices, seekable character devices
	KindStream = 1 // no position (lseek fails with ESPIPE): pipes, FIFOs, ttys
	KindSocket = 2 // a socket: a stream written with MSG_NOSIGNAL
)

// Classify returns the identity of the file open as fd and its kind. A
// character device is a stream only when lseek fails with ESPIPE (a tty);
// /dev/null and /dev/zero have positions. Like Identify, its fstat goes
// through the scheduler.
func Classify(fd int) (FileID, int, error) {
	st, err := fstat(fd)
	if err != nil {
		return FileID{}, KindFile, err
	}
	id := FileID{uint64(st.Dev), st.Ino}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFSOCK:
		return id, KindSocket, nil
	case unix.S_IFIFO:
		return id, KindStream, nil
	case unix.S_IFCHR:
		if _, err := unix.Seek(fd, 0, unix.SEEK_CUR); err == syscall.ESPIPE {
			return id, KindStream, nil
		}
	}
	return id, KindFile, nil
}

// fstat is fstat(2), retried on EINTR.
func fstat(fd int) (unix.Stat_t, error) {
	var st unix.Stat_t
	for {
		err := unix.Fstat(fd, &st)
		if err != syscall.EINTR {
			return st, err
		}
	}
}

// EpollFor returns a new epoll instance watching fd for reading (or for
// writing), level-triggered: readable whenever fd is ready. Kernel AIO's
// POLL accepts only files that wait on one queue, which ttys do not; an
// epoll instance does, so a POLL on it stands for a POLL on fd.
func EpollFor(fd int, write bool) (int, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return -1, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if write {
		ev.Events = unix.EPOLLOUT
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(ep)
		return -1, err
	}
	return ep, nil
}
