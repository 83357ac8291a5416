//go:build linux

package port_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// The seven steps of AIX's "Using I/O Completion Ports with AIO Requests".
func Example() {
	// 1. Open a regular file for I/O.
	f, err := os.CreateTemp("", "goiocp-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	f.WriteString("hello, completion port")

	// 2. Create a completion port, associating the file under a key.
	const fileKey = 1
	p, err := port.Create(int(f.Fd()), nil, fileKey, 0)
	if err != nil {
		log.Fatal(err)
	}

	// 3. A zeroed control block with the extended fields in use...
	cb := &aiocb.AIOCB{
		Fildes:  int(f.Fd()),
		Offset:  7,
		Buf:     make([]byte, 10),
		Flags:   aiocb.Extended,
		Version: aiocb.Vers2,
	}
	// 4. ...associated with the port.
	cb.IOCPFD = p.Fd()

	// 5. Start the request with an ordinary AIO call.
	if err := submit.Read(cb); err != nil {
		log.Fatal(err)
	}

	// 6. Collect its completion packet from the port.
	pkt, err := p.GetQueuedCompletionStatus(10 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	if pkt.Err != nil {
		log.Fatal(pkt.Err)
	}
	fmt.Printf("key %d, %d bytes: %q (same AIOCB: %v)\n", pkt.Key, pkt.Bytes, pkt.CB.Buf[:pkt.Bytes], pkt.CB == cb)

	// 7. Close the port and the file.
	p.Close()
	f.Close()
	// Output: key 1, 10 bytes: "completion" (same AIOCB: true)
}

// A packet posted by the program itself shares the port's FIFO with I/O
// packets; the port does not interpret its fields.
func ExamplePort_PostQueuedCompletionStatus() {
	p, err := port.New()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	const quit = 99
	go p.PostQueuedCompletionStatus(0, quit, nil)
	pkt, err := p.GetQueuedCompletionStatus(port.Infinite)
	fmt.Println(pkt.Key == quit, err)
	// Output: true <nil>
}
