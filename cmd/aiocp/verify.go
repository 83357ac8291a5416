//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

// verify compares the SHA-256 checksums of the source and its copy, read
// back through the page cache.
func verify(src, copyName string) error {
	a, err := checksum(src)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	b, err := checksum(copyName)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("verify %s: checksum mismatch: sha256 %x, copy %x", src, a, b)
	}
	return nil
}

func checksum(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
