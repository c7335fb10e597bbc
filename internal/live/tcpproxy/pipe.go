package tcpproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// readSize is the most the proxy reads at once: a chunk, delayed as one.
const readSize = 32 << 10

var (
	errOverflow = errors.New("tcpproxy: too many bytes held on a blocked link")
	errDead     = errors.New("tcpproxy: connection closed")
)

// chunk is what one read brought, delayed as a whole.
type chunk struct {
	data    []byte
	eof     bool // the sender closed its side: pass it on once the bytes before it are delivered
	from    int  // the nodes it crosses between, Unknown for an unknown dialer
	to      int
	link    int // the index of their link, -1 for an unknown dialer
	readAt  time.Time
	latency time.Duration
}

// pipe is one direction of a connection: a reader queues what it reads
// (carry, or the sniffer, push), a writer delivers it in order, each chunk
// at its time (deliver).
type pipe struct {
	c        *conn
	up       bool     // dialer → dialed
	src, dst net.Conn // set before carry and deliver start

	mu    sync.Mutex
	queue []chunk
	held  int           // bytes in queue
	ready chan struct{} // a chunk was queued
	space chan struct{} // a chunk was delivered
}

func (p *pipe) init(c *conn, up bool) {
	p.c, p.up = c, up
	p.ready = make(chan struct{}, 1)
	p.space = make(chan struct{}, 1)
	if up {
		p.src = c.client
	} else {
		p.dst = c.client
	}
}

// ends returns the nodes at the two ends of p, from and to, [Unknown] for
// an unknown dialer, and the index of their link, -1 when unknown.
func (p *pipe) ends() (from, to, k int) {
	d := p.c.dialer()
	from, to = d, p.c.to
	if !p.up {
		from, to = to, from
	}
	if d == Unknown {
		return from, to, -1
	}
	return from, to, from*p.c.nw.n + to
}

// carry reads src until it ends, queueing what it reads.
func (p *pipe) carry() {
	buf := make([]byte, min(readSize, p.c.nw.cfg.MaxHeld))
	for { // one read a turn; ends when src ends or the connection dies
		n, err := p.src.Read(buf)
		now := time.Now()
		if n > 0 {
			if p.push(append([]byte(nil), buf[:n]...), false, now) != nil {
				return
			}
		}
		if errors.Is(err, io.EOF) {
			p.push(nil, true, now)
			return
		}
		if err != nil {
			p.c.abort()
			return
		}
	}
}

// push queues data (or the end of the stream, eof), read at readAt, with a
// latency drawn for it. When the queue is full it waits for room, unless
// the link is blocked: then nothing will drain it, and it closes the
// connection.
func (p *pipe) push(data []byte, eof bool, readAt time.Time) error {
	nw := p.c.nw
	from, to, k := p.ends()
	ch := chunk{data: data, eof: eof, from: from, to: to, link: k, readAt: readAt, latency: nw.draw(k)}
	for { // one wait a turn; ends when there is room, the link blocks or the connection dies
		p.mu.Lock()
		// An empty queue takes any chunk, however big: a held header.
		if p.held == 0 || p.held+len(data) <= nw.cfg.MaxHeld {
			p.queue = append(p.queue, ch)
			p.held += len(data)
			p.mu.Unlock()
			signal(p.ready)
			return nil
		}
		p.mu.Unlock()
		st := nw.state(k)
		if st.blocked {
			nw.cfg.Observer.Overflow(from, to)
			p.c.abort()
			return errOverflow
		}
		select {
		case <-p.space:
		case <-st.changed:
		case <-p.c.dead:
			return errDead
		}
	}
}

// deliver writes the queued chunks to dst, in order, each at its time,
// until the end of the stream or the connection dies.
func (p *pipe) deliver() {
	var last time.Time // when the chunk before was due
	for {              // one chunk a turn; ends at the end of the stream or when the connection dies
		ch, ok := p.next()
		if !ok {
			return
		}
		due, ok := p.wait(&ch, last)
		if !ok {
			return
		}
		last = due
		if ch.eof {
			if cw, ok := p.dst.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite() // the other direction may still carry its answer
			}
			return
		}
		late := time.Since(due)
		if _, err := p.dst.Write(ch.data); err != nil {
			p.c.abort()
			return
		}
		p.mu.Lock()
		p.queue[0] = chunk{}
		p.queue = p.queue[1:]
		p.held -= len(ch.data)
		p.mu.Unlock()
		signal(p.space)
		p.c.nw.cfg.Observer.Delivered(ch.from, ch.to, len(ch.data), late)
	}
}

// next waits for the chunk at the head of the queue and returns it, left
// in the queue: its bytes are held until they are written.
func (p *pipe) next() (chunk, bool) {
	for { // one wait a turn; ends with a chunk or when the connection dies
		p.mu.Lock()
		if len(p.queue) > 0 {
			ch := p.queue[0]
			p.mu.Unlock()
			return ch, true
		}
		p.mu.Unlock()
		select {
		case <-p.ready:
		case <-p.c.dead:
			return chunk{}, false
		}
	}
}

// wait waits until ch may be delivered: its latency has passed since it
// was read, or since the last unblock of its link, the link is not
// blocked, and the chunk before it, delivered at last, is not later. It
// returns when ch was due.
func (p *pipe) wait(ch *chunk, last time.Time) (time.Time, bool) {
	nw := p.c.nw
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for { // one wake-up a turn, by the timer or a change of the link; ends when due or when the connection dies
		st := nw.state(ch.link)
		var fire <-chan time.Time
		if !st.blocked {
			due := st.due(ch.readAt, ch.latency, last)
			d := time.Until(due)
			if d <= 0 {
				return due, true
			}
			if t == nil {
				t = time.NewTimer(d)
			} else {
				t.Reset(d)
			}
			fire = t.C
		}
		select {
		case <-fire:
		case <-st.changed:
		case <-p.c.dead:
			return time.Time{}, false
		}
	}
}

// signal wakes the one waiter of a channel of capacity 1, if any, or
// leaves the wake-up for the next.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
