package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsim/raftsim/internal/node/httpnode"
	"github.com/raftsim/raftsim/internal/node/wire"
	"github.com/raftsim/raftsim/scenarios"
)

const serveAbout = `Runs one Raft node, raftsim's own (or, with --impl etcd, etcd's raft), on HTTP
with the course's API:

  POST /raft/request-vote    {term, candidateId, lastLogIndex, lastLogTerm} -> {term, voteGranted}
  POST /raft/pre-vote        the same body, for the term the candidate would stand in
  POST /raft/append-entries  {term, leaderId, prevLogIndex, prevLogTerm, entries, leaderCommit}
                             -> {term, success, matchIndex}
  POST /raft/heartbeat       the same as append-entries (the chapter's name)
  GET  /status               {id, state, term, leader, votedFor, commitIndex, logLength}
  POST /propose              {count} -> {accepted}: a leader appends count entries

Term, vote and log live in the data directory and are fsynced before any reply
or message that depends on them leaves, so a node killed with kill -9 and
restarted never votes twice in a term. The node logs one line per change of
term, role or leader on stderr. A malformed request, or one no honest node
sends (a number above 2^53-1, a key twice, entries that do not follow
prevLogIndex, a body over 1 MiB, a sender that is not a peer), gets 400 and a
JSON error and changes nothing. A node whose term is 2^53-1, the largest
integer a JSON number carries exactly, does not campaign, and logs why.
internal/node/wire/CONTRACT.md is the whole contract.

The chapter's environment variables work too: NODE_ID for --id, PORT for
--listen 127.0.0.1:PORT, and PEERS for --peer: comma-separated NAME=HOST:PORT
(n2=127.0.0.1:3002), or the compose file's HOST:PORT, whose host is also the
peer's name (node2:3002). Flags win over the environment. The node listens on
127.0.0.1 unless --listen says otherwise.
`

const serveExamples = `  raftsim serve --id n1 --listen 127.0.0.1:3001 --peer n2=127.0.0.1:3002 --peer n3=127.0.0.1:3003
  NODE_ID=n1 PORT=3001 PEERS=n2=127.0.0.1:3002,n3=127.0.0.1:3003 raftsim serve --data /tmp/n1
  raftsim serve --id n1 --listen 127.0.0.1:3001 --peer n2=127.0.0.1:3002 --prevote --election-timeout 300ms-600ms
  raftsim serve --id n1 --listen 127.0.0.1:3001 --peer n2=127.0.0.1:3002 --impl etcd --check-quorum
  raftsim cluster                 three of them, as in the chapter's walkthrough
`

// serveOverride says which overrides serve takes: the protocol's.
func serveOverride(ov *scenarios.Override) bool {
	switch ov.Flag {
	case "election-timeout", "heartbeat", "bug", "impl", "tick":
		return true
	}
	for _, o := range scenarios.ProtocolOptions {
		if o.Flag == ov.Flag {
			return true
		}
	}
	return false
}

func serveCmd(args []string, out, errw io.Writer) error {
	fs := newFlags("serve", "serve --id NAME --listen HOST:PORT --peer NAME=HOST:PORT... [FLAGS]", serveAbout, serveExamples, errw)
	id := fs.String("id", "", "this node's name (default: $NODE_ID)")
	listen := fs.String("listen", "", "address to listen on (default: 127.0.0.1:$PORT)")
	peers := fs.StringArray("peer", nil, "another node, NAME=HOST:PORT; repeat for each (default: $PEERS)")
	data := fs.String("data", "", "data directory for term, vote and log (default: NAME.raftsim in the current directory)")
	startAt := fs.Int64("start-at", 0, "start the Raft clock at this Unix time in milliseconds (raftsim live boots a cluster's nodes together with it)")
	overrides := overrideFlags(fs, func(ov *scenarios.Override) bool { return !serveOverride(ov) })
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badUsage("serve takes no arguments, got %v", fs.Args())
	}
	cfg, err := serveConfig(fs, *id, *listen, *peers, *data)
	if err != nil {
		return err
	}
	if *startAt > 0 {
		cfg.StartAt = time.UnixMilli(*startAt)
	}
	o, err := overrides()
	if err != nil {
		return err
	}
	s, _, err := loadScenario(scenarios.Load, nil, o)
	if err != nil {
		return err
	}
	c := &s.Cluster
	cfg.Raft, cfg.Log = c.NodeConfig(0), errw
	cfg.Machine = serveMachine(c)
	node, err := httpnode.New(cfg)
	if err != nil {
		return badUsage("serve: %v", err)
	}
	fmt.Fprintf(errw, "raftsim serve: %s listening on %s, data in %s\n", cfg.Name, node.Addr(), cfg.Data)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return node.Serve(ctx)
}

// serveConfig reads the node's name, address, peers and data directory from
// the flags, or else from the chapter's environment variables.
func serveConfig(fs *pflag.FlagSet, id, listen string, peerFlags []string, data string) (httpnode.Config, error) {
	var cfg httpnode.Config
	cfg.Name = id
	if !fs.Changed("id") {
		cfg.Name = os.Getenv(wire.EnvNodeID)
	}
	if cfg.Name == "" {
		return cfg, badUsage("serve: --id (or NODE_ID) names the node")
	}
	cfg.Listen = listen
	if !fs.Changed("listen") {
		port := os.Getenv(wire.EnvPort)
		if port == "" {
			return cfg, badUsage("serve: --listen HOST:PORT (or PORT) says where to listen")
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return cfg, badUsage("serve: PORT=%q is not a port from 1 to 65535", port)
		}
		cfg.Listen = "127.0.0.1:" + port
	}
	var err error
	if fs.Changed("peer") {
		for _, p := range peerFlags {
			ps, perr := wire.ParsePeers(p)
			if perr != nil {
				return cfg, badUsage("--peer: %v", perr)
			}
			cfg.Peers = append(cfg.Peers, ps...)
		}
	} else if cfg.Peers, err = wire.ParsePeers(os.Getenv(wire.EnvPeers)); err != nil {
		return cfg, badUsage("PEERS: %v", err)
	}
	cfg.Data = data
	if cfg.Data == "" {
		cfg.Data = cfg.Name + ".raftsim"
	}
	return cfg, nil
}
