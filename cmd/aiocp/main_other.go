//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "aiocp: Linux native AIO is required")
	os.Exit(1)
}
