//go:build !linux

package sys

import (
	"syscall"
	"time"

	"github.com/goiocp/goiocp/internal/abi"
)

// Supported reports whether this GOOS has Linux native AIO.
const Supported = false

var errNoSys = Errno(syscall.ENOSYS)

// IoSetup returns ENOSYS: this GOOS has no Linux native AIO.
func IoSetup(nr int) (uint64, error) { return 0, errNoSys }

// IoDestroy returns ENOSYS.
func IoDestroy(ctx uint64) error { return errNoSys }

// IoSubmit returns ENOSYS.
func IoSubmit(ctx uint64, iocbs []*abi.IOCB) (int, error) { return 0, errNoSys }

// IoSubmitNowait returns ENOSYS.
func IoSubmitNowait(ctx uint64, iocbs []*abi.IOCB) (int, error) { return 0, errNoSys }

// Perform returns -ENOSYS.
func Perform(cmd uint16, fd int, buf []byte, iov [][]byte, off, done int64) int64 {
	return -int64(syscall.ENOSYS)
}

// IoGetevents returns ENOSYS.
func IoGetevents(ctx uint64, min int, events []abi.IOEvent, timeout time.Duration) (int, error) {
	return 0, errNoSys
}

// IoCancel returns ENOSYS.
func IoCancel(ctx uint64, iocb *abi.IOCB) error { return errNoSys }

// Ring is never available off Linux.
type Ring struct{}

// NewRing returns nil.
func NewRing(ctx uint64) *Ring { return nil }

// Pending reports false.
func (r *Ring) Pending() bool { return false }

// Reap returns 0.
func (r *Ring) Reap(dst []abi.IOEvent) int { return 0 }

// Nr returns 0.
func (r *Ring) Nr() int { return 0 }

// SetBuf records only the length.
func SetBuf(iocb *abi.IOCB, b []byte) { iocb.Nbytes = uint64(len(b)) }

// SetIovec records only the count.
func SetIovec(iocb *abi.IOCB, iov []abi.Iovec, bufs [][]byte) { iocb.Nbytes = uint64(len(bufs)) }

// IocbAddr returns 0.
func IocbAddr(iocb *abi.IOCB) uint64 { return 0 }

// Eventfd returns ENOSYS.
func Eventfd() (int, error) { return -1, errNoSys }

// EventfdAdd returns ENOSYS.
func EventfdAdd(fd int) error { return errNoSys }

// FdValid returns ENOSYS.
func FdValid(fd int) error { return errNoSys }

// Signal returns ENOSYS.
func Signal(sig syscall.Signal) error { return errNoSys }

// Fsync ops of aio_fsync(3); placeholders where the GOOS lacks them.
const (
	O_SYNC  = 0x101000
	O_DSYNC = 0x1000
)

// MaxSignal is the highest signal number accepted.
const MaxSignal = 64

// CloseFd returns ENOSYS.
func CloseFd(fd int) error { return errNoSys }

// InMemory reports false.
func InMemory(fd int) bool { return false }

// FileID identifies an open file.
type FileID struct{ Dev, Ino uint64 }

// Identify returns ENOSYS.
func Identify(fd int) (FileID, error) { return FileID{}, errNoSys }

// Dup returns ENOSYS.
func Dup(fd int) (int, error) { return -1, errNoSys }

// EventfdDrain reports false.
func EventfdDrain(fd int) bool { return false }

// Kinds of open file, as on Linux.
const (
	KindFile   = 0
	KindStream = 1
	KindSocket = 2
)

// Classify returns ENOSYS.
func Classify(fd int) (FileID, int, error) { return FileID{}, KindFile, errNoSys }

// StreamRead returns -ENOSYS.
func StreamRead(fd int, buf []byte, iov [][]byte) int64 { return -int64(syscall.ENOSYS) }

// StreamReadPlain returns -ENOSYS.
func StreamReadPlain(fd int, buf []byte, iov [][]byte) int64 { return -int64(syscall.ENOSYS) }

// StreamWrite returns -ENOSYS.
func StreamWrite(fd int, buf []byte, iov [][]byte, socket bool) int64 { return -int64(syscall.ENOSYS) }

// StreamWritePlain returns -ENOSYS.
func StreamWritePlain(fd int, buf []byte, iov [][]byte) int64 { return -int64(syscall.ENOSYS) }

// EpollFor returns ENOSYS.
func EpollFor(fd int, write bool) (int, error) { return -1, errNoSys }

// AlignedBuffer returns n bytes (unaligned off Linux, where nothing uses O_DIRECT).
func AlignedBuffer(n, align int) []byte { return make([]byte, n) }

// Aligned reports true.
func Aligned(b []byte, align int) bool { return true }

// PreadNowait returns -ENOSYS.
func PreadNowait(fd int, buf []byte, off int64) int64 { return -int64(syscall.ENOSYS) }

// PwriteNowait returns -ENOSYS.
func PwriteNowait(fd int, buf []byte, off int64) int64 { return -int64(syscall.ENOSYS) }

// Pwrite returns -ENOSYS.
func Pwrite(fd int, buf []byte, off int64) int64 { return -int64(syscall.ENOSYS) }

// StatusFlags returns ENOSYS.
func StatusFlags(fd int) (int, error) { return 0, errNoSys }

// O_DIRECT is a placeholder off Linux.
const O_DIRECT = 0x4000

// OnFUSE reports false.
func OnFUSE(fd int) bool { return false }

// Pread returns -ENOSYS.
func Pread(fd int, buf []byte, off int64) int64 { return -int64(syscall.ENOSYS) }

// ProbeIOURing returns ENOSYS: io_uring is Linux's.
func ProbeIOURing() error { return errNoSys }

// ProbeURingQueue returns ENOSYS: io_uring is Linux's.
func ProbeURingQueue() error { return errNoSys }
