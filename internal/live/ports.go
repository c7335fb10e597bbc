package live

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// holdPort listens on a free loopback port for a node to take later, and
// returns the listener: the caller closes it just before the node starts,
// which then binds that port. Between the two, and whenever the node is
// down (a crash before its restart), the port is free, and the kernel
// hands out free ports to every bind(":0") and every outgoing connection
// on the machine: another raftsim's proxy, a test's listener, a client's
// source port could take it, and the node would then fail to start, or
// another program would answer in its place. So the port is drawn below
// the kernel's ephemeral range (ip_local_port_range), where the kernel
// never picks one by itself; only where that range leaves no room is it
// the kernel's choice.
func holdPort() (net.Listener, error) {
	if lo := ephemeralLow(); lo > minHeldPort+1000 {
		for range 200 { // bounded: each try is one bind; nearly all succeed
			p := minHeldPort + rand.IntN(lo-minHeldPort)
			if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
				return ln, nil
			}
		}
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// minHeldPort is the lowest port holdPort draws: above the well-known and
// most registered services' ports.
const minHeldPort = 20000

// ephemeralLow returns the lowest port of the kernel's ephemeral range, or
// 0 where the kernel does not say (not Linux).
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return 0
	}
	lo, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0
	}
	return lo
}
