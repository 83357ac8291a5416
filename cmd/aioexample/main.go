//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/submit"
)

const bufSize = 20 // BUF_SIZE: the size of each read

// ioSignal is IO_SIGNAL, the signal of a completion.
const ioSignal = syscall.SIGUSR1

// request is the program's record of one read (struct ioRequest).
type request struct {
	num    int
	status error // syscall.EINPROGRESS until aio_error says otherwise
	cb     *aiocb.AIOCB
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "Usage: %s <pathname> <pathname>...\n", os.Args[0])
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:]))
}

func run(paths []string) int {
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGQUIT)
	done := make(chan os.Signal, len(paths))
	signal.Notify(done, ioSignal)

	reqs := make([]*request, len(paths))
	for j, path := range paths {
		f, err := os.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			fmt.Fprintf(os.Stderr, "open: %v\n", err)
			return 1
		}
		// The program owns the fd from here, as the C program does; f is
		// kept so the descriptor is not closed by the collector.
		defer f.Close()
		fd := int(f.Fd())
		fmt.Printf("opened %s on descriptor %d\n", path, fd)
		r := &request{num: j, status: syscall.EINPROGRESS, cb: &aiocb.AIOCB{
			Fildes: fd,
			Buf:    make([]byte, bufSize),
			Sigevent: aiocb.Sigevent{
				Notify: aiocb.SigevSignal,
				Signo:  ioSignal,
			},
		}}
		if err := submit.Read(r.cb); err != nil {
			fmt.Fprintf(os.Stderr, "aio_read: %v\n", err)
			return 1
		}
		reqs[j] = r
	}

	open := len(reqs)
	tick := time.NewTimer(3 * time.Second)
	defer tick.Stop()
	for open > 0 {
		// sleep(3), which a signal's handler cuts short.
		gotQuit := false
		select {
		case <-tick.C:
		case <-done:
			fmt.Println("I/O completion signal received")
		case <-quit:
			gotQuit = true
		}
		if !tick.Stop() {
			select {
			case <-tick.C:
			default:
			}
		}
		tick.Reset(3 * time.Second)
		if gotQuit {
			cancelAll(reqs)
		}
		fmt.Println("aio_error():")
		for _, r := range reqs {
			if r.status != syscall.EINPROGRESS {
				continue
			}
			fmt.Printf(" for request %d (descriptor %d): ", r.num, r.cb.Fildes)
			r.status = submit.Error(r.cb)
			switch {
			case r.status == nil:
				fmt.Println("I/O succeeded")
			case r.status == syscall.EINPROGRESS:
				fmt.Println("In progress")
			case errors.Is(r.status, syscall.ECANCELED):
				fmt.Println("Canceled")
			default:
				fmt.Printf("aio_error: %v\n", r.status)
			}
			if r.status != syscall.EINPROGRESS {
				open--
			}
		}
	}
	fmt.Println("All I/O requests completed")
	fmt.Println("aio_return():")
	for _, r := range reqs {
		n, _ := submit.Return(r.cb)
		fmt.Printf(" for request %d (descriptor %d): %d\n", r.num, r.cb.Fildes, n)
	}
	return 0
}

// cancelAll tries to cancel each request still in progress, as the C
// program does on SIGQUIT, and prints what aio_cancel said.
func cancelAll(reqs []*request) {
	fmt.Println("got SIGQUIT; canceling I/O requests: ")
	for _, r := range reqs {
		if r.status != syscall.EINPROGRESS {
			continue
		}
		fmt.Printf(" Request %d on descriptor %d:", r.num, r.cb.Fildes)
		res, err := submit.Cancel(r.cb.Fildes, r.cb)
		switch {
		case err != nil:
			fmt.Printf("aio_cancel: %v\n", err)
		case res == submit.Canceled:
			fmt.Println("I/O canceled")
		case res == submit.NotCanceled:
			fmt.Println("I/O not canceled")
		case res == submit.AllDone:
			fmt.Println("I/O all done")
		}
	}
}
