//go:build linux

package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// output is a copy's destination: a temporary file renamed over the final
// name on success, or a non-regular file written in place.
type output struct {
	f      *os.File
	final  string // the name the copy ends up with
	temp   string // the temporary name; "" when written in place
	direct bool   // f was opened with O_DIRECT
}

// openOutput opens the destination of a copy of the file described by
// src. A destination that exists and is not a regular file is opened in
// place (never with O_DIRECT); otherwise a new temporary file is created
// beside the final name (a symlink's target), with O_DIRECT when asked and
// the file system allows. note reports a fallback to buffered I/O.
func openOutput(dest string, src os.FileInfo, direct bool, note func(string)) (*output, error) {
	st, err := os.Stat(dest)
	switch {
	case err == nil && st.IsDir():
		return nil, &os.PathError{Op: "write", Path: dest, Err: syscall.EISDIR}
	case err == nil && os.SameFile(st, src):
		return nil, fmt.Errorf("%s: source and destination are the same file", dest)
	case err == nil && !st.Mode().IsRegular():
		f, err := os.OpenFile(dest, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &output{f: f, final: dest}, nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	final := dest
	if lst, err := os.Lstat(dest); err == nil && lst.Mode()&os.ModeSymlink != 0 {
		if final, err = filepath.EvalSymlinks(dest); err != nil {
			return nil, err
		}
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	for try := 0; ; try++ {
		temp := tempName(final)
		if direct {
			f, err := os.OpenFile(temp, flag|syscall.O_DIRECT, 0o600)
			if err == nil {
				return &output{f: f, final: final, temp: temp, direct: true}, nil
			}
			if errors.Is(err, syscall.EINVAL) {
				note(fmt.Sprintf("%s: O_DIRECT not supported here, writing buffered", filepath.Dir(final)))
				direct = false
			} else if !errors.Is(err, os.ErrExist) || try > 100 {
				return nil, err
			}
			continue
		}
		f, err := os.OpenFile(temp, flag, 0o600)
		if err == nil {
			return &output{f: f, final: final, temp: temp}, nil
		}
		if !errors.Is(err, os.ErrExist) || try > 100 {
			return nil, err
		}
	}
}

// tempName returns a fresh temporary name beside final: .NAME.aiocp-XXXXXX.
func tempName(final string) string {
	var r [6]byte
	rand.Read(r[:])
	dir, base := filepath.Split(final)
	return filepath.Join(dir, "."+base+".aiocp-"+hex.EncodeToString(r[:]))
}

// regular reports whether the copy goes to a regular (temporary) file.
func (o *output) regular() bool { return o.temp != "" }

// path returns the name the data is being written under.
func (o *output) path() string {
	if o.temp != "" {
		return o.temp
	}
	return o.final
}

// commit gives a regular copy its mode, closes it and renames it over its
// final name. It closes an in-place destination.
func (o *output) commit(mode os.FileMode) error {
	if !o.regular() {
		return o.f.Close()
	}
	if err := o.f.Chmod(mode); err != nil {
		o.abort()
		return err
	}
	if err := o.f.Close(); err != nil {
		os.Remove(o.temp)
		return err
	}
	if err := os.Rename(o.temp, o.final); err != nil {
		os.Remove(o.temp)
		return err
	}
	return nil
}

// abort closes the destination and removes the temporary file.
func (o *output) abort() {
	o.f.Close()
	if o.regular() {
		os.Remove(o.temp)
	}
}
