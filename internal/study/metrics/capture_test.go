package metrics

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var capture = flag.Bool("capture", false, "start three etcd members on loopback and rewrite testdata/etcd-3.4.23 from their /metrics and /debug/vars")

// captureDir is where TestCaptureEtcd writes what the members said.
const captureDir = "testdata/etcd-3.4.23"

// member is one etcd process of the capture.
type member struct {
	name, data, client, peer string
	cmd                      *exec.Cmd
	log                      bytes.Buffer
}

// cluster is the three members, stopped with kill -9 and waited for on
// every way out of the test, interrupts included.
type cluster struct {
	t       *testing.T
	bin     string
	members []*member
	initial string
	mu      sync.Mutex
}

// freePorts returns n loopback ports free a moment ago.
func freePorts(t *testing.T, n int) []int {
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func (c *cluster) start(m *member, state string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m.log.Reset()
	m.cmd = exec.Command(c.bin, "--name", m.name, "--data-dir", m.data,
		"--listen-client-urls", m.client, "--advertise-client-urls", m.client,
		"--listen-peer-urls", m.peer, "--initial-advertise-peer-urls", m.peer,
		"--initial-cluster", c.initial, "--initial-cluster-state", state, "--initial-cluster-token", "raftsim-capture",
		"--heartbeat-interval", "100", "--election-timeout", "1000")
	m.cmd.Stdout, m.cmd.Stderr = &m.log, &m.log
	// The members die with the test, however it ends.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
}

// kill stops m with SIGKILL and waits for it.
func (c *cluster) kill(m *member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Kill()
	m.cmd.Wait()
	m.cmd = nil
}

func (c *cluster) stop() {
	for _, m := range c.members {
		c.kill(m)
	}
}

// get returns the body of GET url.
func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// leader returns the member that says it leads, waiting up to 20s.
func (c *cluster) leader() *member {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range c.members {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			body, err := get(ctx, m.client+"/metrics")
			cancel()
			if err == nil && bytes.Contains(body, []byte("\netcd_server_is_leader 1\n")) {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("no leader within 20s; logs:\n%s", c.logs())
	return nil
}

func (c *cluster) logs() string {
	var b strings.Builder
	for _, m := range c.members {
		fmt.Fprintf(&b, "--- %s\n%s\n", m.name, m.log.String())
	}
	return b.String()
}

// put writes n keys through the members in turn, over the span d.
func (c *cluster) put(n int, d time.Duration) {
	for i := 0; i < n; i++ {
		m := c.members[i%len(c.members)]
		body := fmt.Sprintf(`{"key": %q, "value": %q}`, base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("k%d", i))), base64.StdEncoding.EncodeToString([]byte("v")))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "POST", m.client+"/v3/kv/put", strings.NewReader(body))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		cancel()
		time.Sleep(d / time.Duration(n))
	}
}

// scrape is one capture in the manifest.
type scrape struct {
	File   string    `json:"file"`
	Vars   string    `json:"vars"`
	Member string    `json:"member"`
	At     time.Time `json:"at"`
}

// scrapeAll saves every member's /metrics and /debug/vars as round.
func (c *cluster) scrapeAll(round int) []scrape {
	var out []scrape
	for _, m := range c.members {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		body, err := get(ctx, m.client+"/metrics")
		at := time.Now().UTC().Round(time.Millisecond)
		vars, verr := get(ctx, m.client+"/debug/vars")
		cancel()
		if err != nil || verr != nil {
			c.t.Fatalf("%s: %v %v", m.name, err, verr)
		}
		s := scrape{File: fmt.Sprintf("%s-%d.prom", m.name, round), Vars: fmt.Sprintf("%s-%d.vars.json", m.name, round), Member: m.name, At: at}
		for name, data := range map[string][]byte{s.File: body, s.Vars: vars} {
			if err := os.WriteFile(filepath.Join(captureDir, name), data, 0o644); err != nil {
				c.t.Fatal(err)
			}
		}
		out = append(out, s)
	}
	return out
}

// TestCaptureEtcd rewrites testdata/etcd-3.4.23 with go test -capture: it
// starts three members of Debian's etcd 3.4.23 on loopback (heartbeat
// 100ms, election timeout 1000ms, its defaults, given on the command line),
// writes keys for 40s, scrapes each member's /metrics and /debug/vars,
// kills the leader with SIGKILL, restarts it on its data directory once
// another leads, writes for 30s more and scrapes again. The members are
// killed and their temporary directory removed however the test ends.
func TestCaptureEtcd(t *testing.T) {
	if !*capture {
		t.Skip("rewrites testdata from real etcd members: go test ./internal/study/metrics -run TestCaptureEtcd -capture")
	}
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatalf("no etcd on PATH (Debian: apt-get install etcd-server): %v", err)
	}
	dir, err := os.MkdirTemp("", "raftsim-capture-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, bin: bin}
	cleanup := func() {
		c.stop()
		os.RemoveAll(dir)
	}
	t.Cleanup(cleanup)
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(interrupts)
	go func() {
		if _, ok := <-interrupts; ok {
			cleanup()
			os.Exit(1)
		}
	}()

	ports := freePorts(t, 6)
	var initial []string
	for i := 0; i < 3; i++ {
		m := &member{name: fmt.Sprintf("n%d", i+1), data: filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			client: fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]), peer: fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1])}
		c.members = append(c.members, m)
		initial = append(initial, m.name+"="+m.peer)
	}
	c.initial = strings.Join(initial, ",")
	for _, m := range c.members {
		c.start(m, "new")
	}
	c.leader()
	if err := os.MkdirAll(captureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.put(400, 40*time.Second)
	scrapes := c.scrapeAll(1)

	old := c.leader()
	c.kill(old)
	c.leader() // another, as the old one cannot answer
	c.start(old, "existing")
	c.put(300, 30*time.Second)
	scrapes = append(scrapes, c.scrapeAll(2)...)
	t.Logf("killed and restarted %s, the leader, between the scrapes", old.name)

	manifest, err := json.MarshalIndent(scrapes, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(captureDir, "scrapes.json"), append(manifest, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
