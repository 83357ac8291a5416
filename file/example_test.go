//go:build linux

package file_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"sync"

	"github.com/goiocp/goiocp/file"
)

// Code written against io.ReaderAt switches to goiocp in one line: many
// goroutines reading one File park in the runtime's poller while the
// kernel works, instead of each holding an OS thread.
func Example() {
	tmp, err := os.CreateTemp("", "goiocp-file-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	for i := range 16 {
		fmt.Fprintf(tmp, "record %02d ......\n", i) // 17 bytes each
	}
	tmp.Close()

	f, err := file.Open(tmp.Name(), os.O_RDONLY, 0) // was os.OpenFile
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	var r io.ReaderAt = f
	records := make([]string, 16)
	var wg sync.WaitGroup
	for i := range records {
		wg.Go(func() {
			buf := make([]byte, 9)
			if _, err := r.ReadAt(buf, int64(i)*17); err != nil {
				log.Fatal(err)
			}
			records[i] = string(buf)
		})
	}
	wg.Wait()
	fmt.Println(records[0], records[15])
	// Output: record 00 record 15
}
