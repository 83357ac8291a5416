package abi

import (
	"testing"
	"unsafe"
)

func TestSizes(t *testing.T) {
	for _, c := range []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"struct iocb", unsafe.Sizeof(IOCB{}), 64},
		{"struct io_event", unsafe.Sizeof(IOEvent{}), 32},
		{"struct aio_ring", unsafe.Sizeof(AIORing{}), 32},
		{"struct iovec", unsafe.Sizeof(Iovec{}), 16},
	} {
		if c.got != c.want {
			t.Errorf("sizeof(%s) = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestOffsets(t *testing.T) {
	var cb IOCB
	for _, c := range []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"aio_data", unsafe.Offsetof(cb.Data), 0},
		{"aio_key", unsafe.Offsetof(cb.Key), 8},
		{"aio_rw_flags", unsafe.Offsetof(cb.RWFlags), 12},
		{"aio_lio_opcode", unsafe.Offsetof(cb.Opcode), 16},
		{"aio_reqprio", unsafe.Offsetof(cb.Reqprio), 18},
		{"aio_fildes", unsafe.Offsetof(cb.Fildes), 20},
		{"aio_buf", unsafe.Offsetof(cb.Buf), 24},
		{"aio_nbytes", unsafe.Offsetof(cb.Nbytes), 32},
		{"aio_offset", unsafe.Offsetof(cb.Offset), 40},
		{"aio_reserved2", unsafe.Offsetof(cb.Reserved2), 48},
		{"aio_flags", unsafe.Offsetof(cb.Flags), 56},
		{"aio_resfd", unsafe.Offsetof(cb.ResFD), 60},
	} {
		if c.got != c.want {
			t.Errorf("offsetof(iocb.%s) = %d, want %d", c.name, c.got, c.want)
		}
	}
	var r AIORing
	if got := unsafe.Offsetof(r.Tail); got != 12 {
		t.Errorf("offsetof(aio_ring.tail) = %d, want 12", got)
	}
	if got := unsafe.Offsetof(r.HeaderLength); got != 28 {
		t.Errorf("offsetof(aio_ring.header_length) = %d, want 28", got)
	}
}

func TestIoprio(t *testing.T) {
	if got := IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4); got != 2<<13|4 {
		t.Errorf("IOPRIO_PRIO_VALUE(BE, 4) = %#x", got)
	}
}
