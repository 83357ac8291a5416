//go:build linux

package submit_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// ListIO starts a batch in one call; each entry completes to the port its
// own IOCPFD names, here all to one port, harvested in batches with
// GetQueuedCompletionStatusEx.
func ExampleListIO() {
	f, err := os.CreateTemp("", "goiocp-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	fd := int(f.Fd())

	p, err := port.Create(fd, nil, 0, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	words := []string{"alpha ", "beta ", "gamma"}
	var list []*aiocb.AIOCB
	off := int64(0)
	for _, w := range words {
		list = append(list, &aiocb.AIOCB{
			Fildes: fd, Offset: off, Buf: []byte(w), Opcode: aiocb.OpWrite,
			Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd(),
		})
		off += int64(len(w))
	}
	list = append(list, nil, &aiocb.AIOCB{Opcode: aiocb.OpNop}) // both skipped
	if err := submit.ListIO(submit.NoWait, list, nil); err != nil {
		log.Fatal(err)
	}

	pkts := make([]completion.Packet, 8)
	total := 0
	for got := 0; got < len(words); {
		n, err := p.GetQueuedCompletionStatusEx(pkts, 10*time.Second)
		if err != nil {
			log.Fatal(err)
		}
		for _, pkt := range pkts[:n] {
			total += pkt.Bytes
		}
		got += n
	}
	data, _ := os.ReadFile(f.Name())
	fmt.Printf("%d bytes: %s\n", total, data)
	// Output: 16 bytes: alpha beta gamma
}

// POSIX style: requests that name no port complete to the default context;
// wait with Suspend, then collect the status and the result.
func ExampleSuspend() {
	f, err := os.Open("/dev/zero")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	cb := &aiocb.AIOCB{Fildes: int(f.Fd()), Buf: make([]byte, 512)}
	if err := submit.Read(cb); err != nil {
		log.Fatal(err)
	}
	if err := submit.Suspend([]*aiocb.AIOCB{cb}, submit.Infinite); err != nil {
		log.Fatal(err)
	}
	n, err := submit.Return(cb)
	fmt.Println(submit.Error(cb), n, err)
	// Output: <nil> 512 <nil>
}
