//go:build linux

package main

import (
	"fmt"
	"strconv"
	"strings"
)

// align is the alignment of O_DIRECT buffers, offsets and lengths: 4096
// covers every logical block size Linux uses.
const align = 4096

// Limits of the flags.
const (
	maxBlockSize = 64 << 20
	maxDepth     = 4096
)

// options are the copy's settings, from the flags.
type options struct {
	blockSize int
	depth     int
	direct    bool
	verify    bool
	fsync     bool
}

// check validates the options.
func (o options) check() error {
	if o.blockSize <= 0 || o.blockSize > maxBlockSize {
		return fmt.Errorf("block size %d: must be between 1 and %d", o.blockSize, maxBlockSize)
	}
	if o.direct && o.blockSize%align != 0 {
		return fmt.Errorf("block size %d: must be a multiple of %d with -direct", o.blockSize, align)
	}
	if o.depth < 1 || o.depth > maxDepth {
		return fmt.Errorf("depth %d: must be between 1 and %d", o.depth, maxDepth)
	}
	return nil
}

// sizeFlag is a byte count flag with an optional k, m or g suffix.
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *sizeFlag) Set(v string) error {
	mult := int64(1)
	t := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(v, "B"), "i"))
	if t != "" {
		switch t[len(t)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > maxBlockSize/mult+1 {
		return fmt.Errorf("bad size %q", v)
	}
	*s = sizeFlag(n * mult)
	return nil
}
