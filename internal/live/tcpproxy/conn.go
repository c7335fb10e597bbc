package tcpproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// headerFrom is the header in which rafthttp names the member that sends
// a request (etcd 3.4, etcdserver/api/rafthttp: createPostRequest for
// pipeline messages and snapshots, streamReader.dial for streams), as the
// member ID in hexadecimal (types.ID.String). Its probes of
// GET /raft/probing name no one.
const headerFrom = "X-Server-From"

// parseID reads a member ID as rafthttp writes it (types.IDFromString).
func parseID(s string) (uint64, error) { return strconv.ParseUint(s, 16, 64) }

// conn is one connection through the proxy, from a dialer to member to.
type conn struct {
	nw       *Net
	to       int
	client   net.Conn // the dialer's end
	from     atomic.Int32
	up, down pipe // dialer → to, to → dialer

	mu      sync.Mutex
	member  net.Conn // to's end, once dialed
	aborted bool
	dead    chan struct{} // closed by abort
}

func newConn(nw *Net, to int, client net.Conn) *conn {
	c := &conn{nw: nw, to: to, client: client, dead: make(chan struct{})}
	c.from.Store(Unknown)
	c.up.init(c, true)
	c.down.init(c, false)
	return c
}

// dialer returns the member that dialed c, or Unknown.
func (c *conn) dialer() int { return int(c.from.Load()) }

// serve carries c until both directions have ended, or c dies.
func (c *conn) serve() {
	defer c.abort() // after both directions ended: closes both ends
	s := &sniffer{c: c}
	s.br = bufio.NewReaderSize(s, 4096)
	// The first request says who dialed: the proxy reads it before it
	// dials the member, so that a refused connection never reaches it.
	c.client.SetReadDeadline(time.Now().Add(firstRequestTimeout))
	req, why := s.next()
	c.client.SetReadDeadline(time.Time{})
	if len(s.pending) == 0 {
		return // closed, or silent, before saying anything
	}
	from := Unknown
	if req != nil {
		from, why = c.nw.dialer(c.to, req.Header.Get(headerFrom))
		if why != "" {
			why = req.Method + " " + req.URL.Path + ": " + why
		}
	}
	if from != Unknown && c.nw.Blocked(from, c.to) {
		c.nw.cfg.Observer.Accepted(from, c.to, true)
		return
	}
	d := net.Dialer{Timeout: dialTimeout}
	member, err := d.DialContext(c.nw.ctx, "tcp", c.nw.cfg.Targets[c.to])
	if err != nil {
		return // the member is down: its dialer sees the connection close
	}
	if !c.setMember(member) {
		return
	}
	if from == Unknown {
		c.nw.cfg.Observer.Unknown(c.to, why)
	} else {
		c.identify(from)
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); c.up.deliver() }()
	go func() { defer wg.Done(); c.down.carry() }()
	go func() { defer wg.Done(); c.down.deliver() }()
	defer wg.Wait()
	if s.flush() != nil {
		return
	}
	if req != nil {
		c.sniff(s, req)
		if s.flush() != nil {
			return
		}
	}
	switch {
	case s.err == nil:
		c.up.carry() // the rest as it comes, under the link now known
	case errors.Is(s.err, io.EOF):
		c.up.push(nil, true, time.Now())
	default:
		c.abort()
	}
}

// sniff reads the requests that follow req while c's dialer is unknown,
// until one names it: a connection that etcd's prober opened (its requests
// name no one) goes back to the dialer's pool of idle connections, and may
// carry its raft messages next. It returns when the dialer is known, or
// the requests end or cannot be read: what was read is in s.pending or
// already queued.
func (c *conn) sniff(s *sniffer, req *http.Request) {
	for c.dialer() == Unknown { // one request a turn; ends with the connection
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
		if req, _ = s.next(); req == nil {
			return
		}
		if from, _ := c.nw.dialer(c.to, req.Header.Get(headerFrom)); from != Unknown {
			c.identify(from)
		}
		if s.flush() != nil {
			return
		}
	}
}

// identify makes from the dialer of c: its bytes from now on cross the
// links from → to and to → from.
func (c *conn) identify(from int) {
	c.from.Store(int32(from))
	c.nw.cfg.Observer.Accepted(from, c.to, false)
}

func (c *conn) setMember(m net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		m.Close()
		return false
	}
	c.member = m
	c.down.src, c.up.dst = m, m
	return true
}

// abort closes both ends of c, which ends every goroutine carrying it.
func (c *conn) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		return
	}
	c.aborted = true
	close(c.dead)
	c.client.Close()
	if c.member != nil {
		c.member.Close()
	}
}

// maxHeader bounds a request's header that the proxy holds while it reads
// it; beyond, it stops reading requests and carries the connection as it
// is.
const maxHeader = 64 << 10

var errHeaderTooLong = errors.New("tcpproxy: request header too long")

// sniffer reads the dialer's end of a connection while its dialer is
// unknown, for net/http to parse its requests. It holds back the bytes of a
// request's header until the header is read (they cross the link that the
// header names) and queues the bytes of a body as they come. Every byte
// read from the dialer passes through it once, so that the bytes that
// net/http read ahead are never lost when the proxy stops parsing.
type sniffer struct {
	c         *conn
	br        *bufio.Reader
	hold      bool
	pending   []byte    // a header's bytes, held
	pendingAt time.Time // when the first of them was read
	err       error     // the dialer's end failed, or ended (io.EOF)
}

func (s *sniffer) Read(b []byte) (int, error) {
	n, err := s.c.client.Read(b)
	now := time.Now()
	if err != nil {
		s.err = err
	}
	if n == 0 {
		return 0, err
	}
	if s.hold {
		if len(s.pending) == 0 {
			s.pendingAt = now
		}
		s.pending = append(s.pending, b[:n]...)
		if len(s.pending) > maxHeader && err == nil {
			err = errHeaderTooLong
		}
		return n, err
	}
	if perr := s.c.up.push(append([]byte(nil), b[:n]...), false, now); perr != nil {
		return n, perr
	}
	return n, err
}

// next reads the next request's header, holding its bytes; it returns nil
// and why when none could be read.
func (s *sniffer) next() (*http.Request, string) {
	s.hold = true
	defer func() { s.hold = false }()
	req, err := http.ReadRequest(s.br)
	if err != nil {
		return nil, "not an HTTP request: " + err.Error()
	}
	return req, ""
}

// flush queues the held bytes.
func (s *sniffer) flush() error {
	if len(s.pending) == 0 {
		return nil
	}
	data := s.pending
	s.pending = nil
	return s.c.up.push(data, false, s.pendingAt)
}
