package wire

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// The environment variables a node is started with: the chapter's
// docker-compose variables, and raftsim's optional ones, which a node may
// read to follow the scenario being run.
const (
	EnvNodeID = "NODE_ID" // the node's name: candidateId and leaderId in its requests
	EnvPort   = "PORT"    // the port to listen on, on 127.0.0.1
	EnvPeers  = "PEERS"   // the other nodes: see [ParsePeers]
	// EnvDataDir is the node's own directory for its term, vote and log,
	// kept across a kill and restart; a node started by raftsim runs in the
	// directory raftsim was started in.
	EnvDataDir = "DATA_DIR"

	EnvElectionMin = "ELECTION_TIMEOUT_MIN_MS" // optional: the election timeout range, in ms
	EnvElectionMax = "ELECTION_TIMEOUT_MAX_MS"
	EnvHeartbeat   = "HEARTBEAT_MS" // optional: the heartbeat interval, in ms
	EnvPreVote     = "RAFT_PREVOTE" // "1": use Pre-Vote
	EnvBug         = "RAFT_BUG"     // a deliberate bug of the example nodes, by name
)

// Peer is another node of the cluster and where to reach it.
type Peer struct {
	Name string
	Addr string // host:port
}

// ParsePeers reads PEERS: peers separated by commas, each NAME=HOST:PORT
// (n2=127.0.0.1:3002), or, as in the chapter's docker-compose file,
// HOST:PORT, whose host is also the peer's name (node2:3002).
func ParsePeers(s string) ([]Peer, error) {
	var peers []Peer
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addr, named := strings.Cut(item, "=")
		if !named {
			addr = item
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			return nil, fmt.Errorf("peer %q: want NAME=HOST:PORT or HOST:PORT", item)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("peer %q: port %q is not 1 to 65535", item, port)
		}
		if !named {
			name = host
		}
		if name == "" {
			return nil, fmt.Errorf("peer %q: no name before =", item)
		}
		peers = append(peers, Peer{Name: name, Addr: addr})
	}
	return peers, nil
}

// FormatPeers writes peers as PEERS lists them: NAME=HOST:PORT,...
func FormatPeers(peers []Peer) string {
	parts := make([]string, len(peers))
	for i, p := range peers {
		parts[i] = p.Name + "=" + p.Addr
	}
	return strings.Join(parts, ",")
}
