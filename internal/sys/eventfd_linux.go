//go:build linux

package sys

import (
	"encoding/binary"
	"syscall"

	"golang.org/x/sys/unix"
)

// Eventfd returns a new non-blocking, close-on-exec eventfd with a zero
// counter. Non-blocking matters: os.NewFile registers such an fd with the
// Go netpoller, so a goroutine reading it parks without holding a thread.
func Eventfd() (int, error) {
	for {
		fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1, err
		}
		return fd, nil
	}
}

// EventfdAdd adds 1 to the counter of the eventfd fd, which makes it
// readable and wakes a goroutine parked on it. A full counter (EAGAIN) is
// already readable, so it is not an error.
func EventfdAdd(fd int) error {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	for {
		_, err := unix.Write(fd, one[:])
		switch err {
		case syscall.EINTR:
			continue
		case nil, syscall.EAGAIN:
			return nil
		}
		return err
	}
}

// EventfdDrain resets fd's counter to zero without blocking and reports
// whether it was above zero.
func EventfdDrain(fd int) bool {
	var buf [8]byte
	for {
		n, err := unix.Read(fd, buf[:])
		if err != syscall.EINTR {
			return err == nil && n == len(buf)
		}
	}
}
