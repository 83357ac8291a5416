//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "aioexample: Linux native AIO is required")
	os.Exit(1)
}
