//go:build !linux

// Command iocpdemo needs Linux native AIO.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "iocpdemo: Linux native AIO is required")
	os.Exit(1)
}
