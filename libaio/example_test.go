//go:build linux

package libaio_test

import (
	"fmt"
	"log"
	"os"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/libaio"
)

// Read a file in two pieces with one io_submit, then collect both with
// io_getevents.
func ExampleQueue_Submit() {
	f, err := os.CreateTemp("", "libaio-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	f.WriteString("hello, completion ports")

	q, err := libaio.QueueInit(8) // io_queue_init
	if err != nil {
		log.Fatal(err)
	}
	defer q.Release() // io_queue_release

	var head, tail aiocb.AIOCB
	libaio.PrepPread(&head, int(f.Fd()), make([]byte, 5), 0) // io_prep_pread
	libaio.PrepPread(&tail, int(f.Fd()), make([]byte, 64), 7)
	if n, err := q.Submit([]*aiocb.AIOCB{&head, &tail}); err != nil { // io_submit
		log.Fatal(n, err)
	}
	events := make([]libaio.Event, 2)
	n, err := q.GetEvents(2, events, libaio.Infinite) // io_getevents
	if err != nil {
		log.Fatal(err)
	}
	got := map[*aiocb.AIOCB]string{}
	for _, ev := range events[:n] {
		got[ev.CB] = string(ev.CB.Buf[:ev.Res])
	}
	fmt.Printf("%q %q\n", got[&head], got[&tail])
	// Output: "hello" "completion ports"
}

// The libaio aiocp state machine in miniature: a read's callback turns its
// AIOCB into a write of what it read.
func ExampleQueue_SetCallback() {
	src, err := os.CreateTemp("", "libaio-src")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(src.Name())
	defer src.Close()
	src.WriteString("copied by callbacks")
	dst, err := os.CreateTemp("", "libaio-dst")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(dst.Name())
	defer dst.Close()

	q, err := libaio.QueueInit(2)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Release()

	done := false
	wrDone := func(cb *aiocb.AIOCB, res int, err error) {
		done = err == nil
	}
	rdDone := func(cb *aiocb.AIOCB, res int, err error) {
		if err != nil {
			log.Fatal(err)
		}
		libaio.PrepPwrite(cb, int(dst.Fd()), cb.Buf[:res], cb.Offset) // turn the read into a write
		q.SetCallback(cb, wrDone)                                     // io_set_callback
		if _, err := q.Submit([]*aiocb.AIOCB{cb}); err != nil {
			log.Fatal(err)
		}
	}
	var cb aiocb.AIOCB
	libaio.PrepPread(&cb, int(src.Fd()), make([]byte, 4096), 0)
	q.SetCallback(&cb, rdDone)
	if _, err := q.Submit([]*aiocb.AIOCB{&cb}); err != nil {
		log.Fatal(err)
	}
	for !done {
		if err := q.Wait(libaio.Infinite); err != nil { // io_queue_wait
			log.Fatal(err)
		}
	}
	b, _ := os.ReadFile(dst.Name())
	fmt.Println(string(b))
	// Output: copied by callbacks
}
