package sys

import "syscall"

// errnos holds every small errno boxed in an error interface once, so that
// converting a kernel result into an error never allocates.
var errnos [256]error

func init() {
	for i := range errnos {
		if i != 0 {
			errnos[i] = syscall.Errno(i)
		}
	}
}

// Errno returns e as an error without allocating; nil for 0.
func Errno(e syscall.Errno) error {
	if e < syscall.Errno(len(errnos)) {
		return errnos[e]
	}
	return e
}

// ResultErr returns the error of a negated-errno kernel result, nil for
// res >= 0.
func ResultErr(res int64) error {
	if res >= 0 {
		return nil
	}
	return Errno(syscall.Errno(-res))
}
