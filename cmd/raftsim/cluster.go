package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/raftsim/raftsim/internal/live"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

const clusterAbout = `Starts a cluster on this machine, as the chapter's docker-compose file does,
without Docker: N nodes (3 by default) listening on 127.0.0.1, ports 3001,
3002, ... — raftsim's own (raftsim serve), or any program that speaks the
course's HTTP API (--cmd) — with raftsim's proxy between them (the latency,
loss and protocol flags of run apply). It prints the curl commands that ask
each node for its /status, shows the nodes' log lines as they come, and stays
up until ^C or quit. Type commands on its standard input to kill -9, restart,
pause, resume, isolate and heal nodes while it runs (help lists them), for the
chapter's walkthrough and Exercises 1 and 4. Every process and its data are
removed when it stops.
`

const clusterExamples = `  raftsim cluster
  raftsim cluster --nodes 5 --latency uniform:5ms-10ms --prevote
  raftsim cluster --cmd 'python3 examples/server.py' --port 4001
`

// stdin is what raftsim cluster reads its commands from.
var stdin io.Reader = os.Stdin

func clusterCmd(args []string, out, errw io.Writer) error {
	fs := newFlags("cluster", "cluster [SCENARIO] [FLAGS]", clusterAbout, clusterExamples, errw)
	port := fs.Int("port", 3001, "the first node's port: node i listens on 127.0.0.1:PORT+i-1 (0: any free ports)")
	cmd := fs.String("cmd", "", "a shell command that runs one node of the course's API (default: raftsim serve)")
	overrides := overrideFlags(fs, func(ov *scenarios.Override) bool { return ov.Picks })
	if err := parse(fs, args, out); err != nil {
		return err
	}
	o, err := overrides()
	if err != nil {
		return err
	}
	if !fs.Changed("nodes") {
		o.Set("nodes", "3") // the chapter's cluster
	}
	s, _, err := loadScenario(scenarios.Load, fs.Args(), o)
	if err != nil {
		return err
	}
	n := s.Cluster.Nodes
	if n > live.MaxNodes {
		return badUsage("--nodes: at most %d processes on one machine, got %d", live.MaxNodes, n)
	}
	if *port < 0 || *port+n-1 > 65535 {
		return badUsage("--port: %d nodes from port %d do not fit below 65536", n, *port)
	}
	nodes, err := liveNodes(&liveFlags{cmd: *cmd})
	if err != nil {
		return err
	}
	plan := trial.NewPlan(s)
	dir, err := os.MkdirTemp("", "raftsim-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var ports []int // nil: free ones
	for i := range n {
		if *port > 0 {
			ports = append(ports, *port+i)
		}
	}
	c, err := live.NewCluster(live.ClusterConfig{Nodes: nodes.For(s), Size: n, Ports: ports, Data: dir, Logs: dir,
		Links: live.LinksOf(plan), FIFO: s.Network.FIFO, Seed: s.Seed, Output: out})
	if err != nil {
		return err
	}
	defer func() {
		if note, _ := c.Close(); note != "" {
			fmt.Fprintln(errw, "raftsim cluster: "+note)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for i := range n {
		if err := c.Start(i, time.Now()); err != nil {
			return err
		}
	}
	if err := c.WaitAll(ctx, nil); err != nil {
		return err
	}
	params := report.ParamsOf(s)
	fmt.Fprintf(out, "raftsim cluster: %s of %s\nask them:\n  %s\n%s", params.Describe(), nodes.Describe(),
		strings.Join(c.CurlLines(), "\n  "), live.ConsoleHelp)
	if !live.Console(ctx, c, stdin, out) && ctx.Err() == nil {
		fmt.Fprintln(out, "raftsim cluster: standard input closed; ^C stops the cluster")
		<-ctx.Done()
	}
	fmt.Fprintln(out, "raftsim cluster: stopping")
	return nil
}
