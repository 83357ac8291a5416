//go:build linux

package port_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

// AIX's pattern: one port carries a socket's packets and a file's AIO
// packets side by side, and one loop tells them apart by CompletionKey.
func Example_socketAndFile() {
	const (
		sockKey = 1
		fileKey = 2
	)
	f, err := os.CreateTemp("", "goiocp-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	f.WriteString("a file's bytes")

	// A connected socket; its peer plays the client.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	sock, peer := fds[0], fds[1]
	defer unix.Close(sock)
	defer unix.Close(peer)

	p, err := port.Create(sock, nil, sockKey, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	if err := p.Associate(int(f.Fd()), fileKey); err != nil {
		log.Fatal(err)
	}

	// A socket read that must wait: ReadFile says EINPROGRESS, and its
	// packet comes back with ov.
	sockBuf := make([]byte, 64)
	ov := &aiocb.AIOCB{}
	if _, err := p.ReadFile(sock, sockBuf, ov); err != nil && !isInProgress(err) {
		log.Fatal(err)
	}
	// A file read completing to the same port.
	fileCB := &aiocb.AIOCB{Fildes: int(f.Fd()), Buf: make([]byte, 14),
		Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}
	if err := submit.Read(fileCB); err != nil {
		log.Fatal(err)
	}
	unix.Write(peer, []byte("a client's request"))

	got := map[uintptr]string{}
	pkts := make([]completion.Packet, 8)
	for len(got) < 2 {
		n, err := p.GetQueuedCompletionStatusEx(pkts, 5*time.Second)
		if err != nil {
			log.Fatal(err)
		}
		for _, pkt := range pkts[:n] {
			switch pkt.Key {
			case sockKey:
				got[sockKey] = fmt.Sprintf("socket: %q", sockBuf[:pkt.Bytes])
			case fileKey:
				got[fileKey] = fmt.Sprintf("file: %q", pkt.CB.Buf[:pkt.Bytes])
			}
		}
	}
	fmt.Println(got[sockKey])
	fmt.Println(got[fileKey])
	// Output:
	// socket: "a client's request"
	// file: "a file's bytes"
}

func isInProgress(err error) bool { return errorsIs(err, unix.EINPROGRESS) }
