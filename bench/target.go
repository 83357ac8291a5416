//go:build linux

package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Target is the file a cell runs on.
type Target struct {
	FS     string `json:"fs"`     // label: "tmpfs", "disk" or "file"
	FSType string `json:"fstype"` // the file system's type, from statfs
	Path   string `json:"path"`
	Size   int64  `json:"size"`   // bytes, a multiple of 1 MiB
	Direct bool   `json:"direct"` // opened with O_DIRECT
}

// Label names the target in tables: "tmpfs direct", "disk buffered".
func (t Target) Label() string {
	if t.Direct {
		return t.FS + " direct"
	}
	return t.FS + " buffered"
}

// CreateFile makes a file of size bytes (rounded up to 1 MiB) filled with
// pseudo-random data in dir and returns its path. The caller removes it.
func CreateFile(dir string, size int64) (string, error) {
	size = (size + 1<<20 - 1) &^ (1<<20 - 1)
	f, err := os.CreateTemp(dir, "iocpbench-*.dat")
	if err != nil {
		return "", fmt.Errorf("create bench file: %w", err)
	}
	buf := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(uint64(size), 1))
	for off := int64(0); off < size; off += int64(len(buf)) {
		for i := 0; i < len(buf); i += 8 {
			v := r.Uint64()
			for k := range 8 {
				buf[i+k] = byte(v >> (8 * k))
			}
		}
		if _, err := f.Write(buf); err != nil {
			f.Close()
			os.Remove(f.Name())
			return "", fmt.Errorf("fill bench file: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("sync bench file: %w", err)
	}
	return f.Name(), f.Close()
}

// Open opens the target for reading and writing, with O_DIRECT when
// t.Direct.
func (t Target) Open() (*os.File, error) {
	flag := os.O_RDWR
	if t.Direct {
		flag |= unix.O_DIRECT
	}
	f, err := os.OpenFile(t.Path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("open target: %w", err)
	}
	return f, nil
}

// FSTypeOf names the file system that holds path, from statfs's magic.
func FSTypeOf(path string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(filepath.Dir(path), &st); err != nil {
		return "unknown"
	}
	switch uint64(st.Type) {
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	case unix.NFS_SUPER_MAGIC:
		return "nfs"
	case unix.FUSE_SUPER_MAGIC:
		return "fuse"
	}
	return fmt.Sprintf("0x%x", uint64(st.Type))
}

// ProbeDirect reports whether the file system holding path accepts
// O_DIRECT reads (open and one aligned pread).
func ProbeDirect(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := NewBuffers(1, 4096)
	if err != nil {
		return err
	}
	defer b.Free()
	if _, err := f.ReadAt(b.Slot(0), 0); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// Buffers is a page-aligned block of n buffers of size bytes each, from an
// anonymous mapping, as O_DIRECT needs. Free unmaps it: no request may use
// it then.
type Buffers struct {
	mem  []byte
	size int
}

// NewBuffers maps n buffers of size bytes; size is rounded up to 4 KiB so
// every buffer starts page aligned.
func NewBuffers(n, size int) (*Buffers, error) {
	stride := (size + 4095) &^ 4095
	mem, err := unix.Mmap(-1, 0, n*stride, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("map buffers: %w", err)
	}
	for i := range mem {
		mem[i] = byte(i * 7)
	}
	return &Buffers{mem: mem, size: stride}, nil
}

// Slot returns buffer i, full length.
func (b *Buffers) Slot(i int) []byte {
	return b.mem[i*b.size : (i+1)*b.size : (i+1)*b.size]
}

// Free unmaps the buffers.
func (b *Buffers) Free() error {
	if b.mem == nil {
		return nil
	}
	err := unix.Munmap(b.mem)
	b.mem = nil
	return err
}
