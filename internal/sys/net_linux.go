//go:build linux

package sys

import (
	"net/netip"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Listen returns a listening TCP socket bound to addr, close-on-exec and
// non-blocking unless blocking, with SO_REUSEADDR (a restarted server binds
// at once) and a backlog of backlog connections; and the address it is
// bound to (port 0 picks a free one).
func Listen(addr netip.AddrPort, backlog int, blocking bool) (int, netip.AddrPort, error) {
	family := unix.AF_INET
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		family = unix.AF_INET6
	}
	typ := unix.SOCK_STREAM | unix.SOCK_CLOEXEC
	if !blocking {
		typ |= unix.SOCK_NONBLOCK
	}
	fd, err := unix.Socket(family, typ, 0)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	fail := func(err error) (int, netip.AddrPort, error) {
		unix.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail(err)
	}
	if err := unix.Bind(fd, sockaddr(addr)); err != nil {
		return fail(err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return fail(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fail(err)
	}
	return fd, addrPort(sa), nil
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	a := ap.Addr().Unmap()
	if a.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
}

func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// Accept takes the next connection waiting on the listening socket fd: a
// close-on-exec socket with TCP_NODELAY set (as Go's net package does), and
// its peer's address. On a non-blocking fd, no connection waiting is
// EAGAIN; on a blocking one the call waits, holding its thread, until a
// connection comes or ShutdownRead.
// The new socket is blocking: goiocp's transfers on it never wait
// (MSG_DONTWAIT, RWF_NOWAIT) whatever its mode.
func Accept(fd int) (int, netip.AddrPort, error) {
	for {
		nfd, sa, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
		switch err {
		case nil:
		case syscall.EINTR, syscall.ECONNABORTED:
			continue // interrupted, or a connection reset while it waited
		default:
			return -1, netip.AddrPort{}, err
		}
		if err := unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
			unix.Close(nfd)
			return -1, netip.AddrPort{}, err
		}
		return nfd, addrPort(sa), nil
	}
}

// SendNow writes what of b fits in the socket's send buffer now, without
// waiting and without SIGPIPE.
func SendNow(fd int, b []byte) (int, error) {
	return unix.SendmsgN(fd, b, nil, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
}

// ShutdownRead wakes a blocked Accept on the listening socket fd, which
// then fails with EINVAL.
func ShutdownRead(fd int) error { return unix.Shutdown(fd, unix.SHUT_RD) }

// ShutdownWrite sends the socket's FIN: the peer reads end of stream once
// it has read what was sent.
func ShutdownWrite(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }

// OpenBeneath opens path relative to the directory dirfd the way openat(2)
// does, except that the kernel refuses to leave the directory on the way:
// "..", absolute paths and symbolic links resolving outside it fail with
// EXDEV, and /proc magic links with ELOOP (openat2 with RESOLVE_BENEATH and
// RESOLVE_NO_MAGICLINKS). Symbolic links that stay inside are followed.
// flags gain O_CLOEXEC, and O_NOCTTY unless they have O_PATH (with which
// openat2 allows nothing but O_DIRECTORY and O_NOFOLLOW). EAGAIN (a rename racing the lookup,
// or a lease being broken) is retried a few times, then returned.
func OpenBeneath(dirfd int, path string, flags int) (int, error) {
	flags |= unix.O_CLOEXEC
	if flags&unix.O_PATH == 0 {
		flags |= unix.O_NOCTTY
	}
	how := unix.OpenHow{
		Flags:   uint64(flags),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for try := 0; ; try++ {
		fd, err := unix.Openat2(dirfd, path, &how)
		if err == syscall.EINTR || (err == syscall.EAGAIN && try < 3) {
			continue
		}
		return fd, err
	}
}

// Reopen opens the file that the O_PATH descriptor fd names, with flags
// (gaining O_CLOEXEC and O_NOCTTY), through /proc/self/fd: the same file,
// whatever happened to its name since. So a server can look at what a
// name leads to (an O_PATH open runs no driver code) before it opens it.
func Reopen(fd int, flags int) (int, error) {
	var b [32]byte
	p := append(append(b[:0], "/proc/self/fd/"...), strconv.Itoa(fd)...)
	for {
		nfd, err := unix.Open(string(p), flags|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err == syscall.EINTR {
			continue
		}
		return nfd, err
	}
}

// FileInfo is what a server needs to know of an open file.
type FileInfo struct {
	Size  int64
	Dir   bool
	Reg   bool  // a regular file
	Mtime int64 // seconds since the epoch
}

// Fstat describes the file open as fd.
func Fstat(fd int) (FileInfo, error) {
	st, err := fstat(fd)
	if err != nil {
		return FileInfo{}, err
	}
	mode := st.Mode & unix.S_IFMT
	return FileInfo{Size: st.Size, Dir: mode == unix.S_IFDIR, Reg: mode == unix.S_IFREG, Mtime: st.Mtim.Sec}, nil
}

// OpenDir opens the directory path for use as the dirfd of OpenBeneath.
func OpenDir(path string) (int, error) {
	return unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_PATH, 0)
}

// Peer is the address of the socket fd's peer, as host:port, or "-".
func Peer(fd int) string {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return "-"
	}
	return addrPort(sa).String()
}
