//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// job is one file to copy.
type job struct {
	src  string
	dest string // the destination path: DEST, or DEST/base(src)
	size int64  // the source's size when planned, for the progress total
}

// plan pairs each source with its destination: DEST itself for a single
// source unless DEST is a directory, else DEST/base(SOURCE).
func plan(srcs []string, dest string) ([]job, error) {
	st, err := os.Stat(dest)
	isDir := err == nil && st.IsDir()
	if len(srcs) > 1 && !isDir {
		return nil, fmt.Errorf("target %s: not a directory", dest)
	}
	jobs := make([]job, len(srcs))
	for i, s := range srcs {
		jobs[i] = job{src: s, dest: dest}
		if isDir {
			jobs[i].dest = filepath.Join(dest, filepath.Base(s))
		}
		if st, err := os.Stat(s); err == nil && st.Mode().IsRegular() {
			jobs[i].size = st.Size()
		}
	}
	return jobs, nil
}

// total returns the bytes the jobs will copy.
func total(jobs []job) int64 {
	var n int64
	for _, j := range jobs {
		n += j.size
	}
	return n
}
