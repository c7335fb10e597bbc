package live

import (
	"net"
	"testing"
)

// TestHeldPortsAreBelowTheEphemeralRange: a node's port is one the kernel
// never hands out by itself, so no bind(":0") or outgoing connection can
// take it while the node is down.
func TestHeldPortsAreBelowTheEphemeralRange(t *testing.T) {
	lo := ephemeralLow()
	if lo <= minHeldPort+1000 {
		t.Skipf("the kernel's ephemeral range starts at %d: no room below it", lo)
	}
	seen := map[int]bool{}
	for range 20 {
		ln, err := holdPort()
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		p := ln.Addr().(*net.TCPAddr).Port
		if p < minHeldPort || p >= lo || seen[p] {
			t.Errorf("port %d: want a new one in [%d, %d)", p, minHeldPort, lo)
		}
		seen[p] = true
	}
	// What the kernel picks by itself lies in its range, never below it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if p := ln.Addr().(*net.TCPAddr).Port; p < lo {
		t.Errorf("the kernel picked %d, below its ephemeral range %d", p, lo)
	}
}
