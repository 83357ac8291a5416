//go:build linux

package httpd

// A completion key says what a packet is about: its kind in the top bits,
// then, for a connection or its file, the connection's slot in its worker's
// table and the slot's generation, so a packet about a connection that is
// gone never reaches the one that took its slot.
const (
	slotBits = 20
	genBits  = 9
	kindBits = slotBits + genBits

	kindControl = 0 // posted by the server; the slot field is the command
	kindListen  = 1 // the listening socket's OpPoll
	kindConn    = 2 // a connection's socket: its ReadFile and WriteFile packets, and continues
	kindFile    = 3 // a file being served: its AIO reads, whose AIOCB names the connection

	maxSlots = 1 << slotBits
	genMask  = 1<<genBits - 1
)

// Commands of control packets.
const (
	cmdDrain   = 1 // stop accepting, close idle connections, finish the rest
	cmdForce   = 2 // cut every connection
	cmdHandoff = 3 // adopt the connection whose fd is the packet's Bytes
)

func makeKey(kind, slot int, gen uint32) uintptr {
	return uintptr(kind)<<kindBits | uintptr(gen&genMask)<<slotBits | uintptr(slot)
}

func keyKind(k uintptr) int      { return int(k >> kindBits) }
func keySlot(k uintptr) int      { return int(k & (maxSlots - 1)) }
func keyGen(k uintptr) uint32    { return uint32(k>>slotBits) & genMask }
func controlKey(cmd int) uintptr { return makeKey(kindControl, cmd, 0) }
