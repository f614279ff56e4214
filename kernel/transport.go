package kernel

import (
	"bufio"
	"context"
	"encoding/binary"
	"net"
	"sync"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// zmq4 writes every ZMTP frame of a message as two writes (its header, then
// its body) and reads them with as many reads: a Jupyter message of seven
// frames costs fourteen system calls and fourteen TCP segments each way, which
// made a trivial cell's round trip over a millisecond. The kernel therefore
// binds through transports of its own, "graft-tcp" and "graft-ipc": the same
// sockets on the same addresses, with connections that read through a buffer
// and send each whole message with one write.

const (
	tcpTransport = "graft-tcp"
	ipcTransport = "graft-ipc"
)

func init() {
	for name, network := range map[string]string{tcpTransport: "tcp", ipcTransport: "unix"} {
		if err := zmq4.RegisterTransport(name, batchTransport{transport.New(network)}); err != nil {
			panic("kernel: registering transport " + name + ": " + err.Error())
		}
	}
}

// batchTransport is a zmq4 transport whose connections batch their writes
// per message.
type batchTransport struct{ transport.Transport }

// Listen listens like the wrapped transport and batches its connections.
func (t batchTransport) Listen(ctx context.Context, addr string) (net.Listener, error) {
	l, err := t.Transport.Listen(ctx, addr)
	if err != nil {
		return nil, err
	}
	return batchListener{l}, nil
}

// Dial dials like the wrapped transport and batches the connection.
func (t batchTransport) Dial(ctx context.Context, d transport.Dialer, addr string) (net.Conn, error) {
	c, err := t.Transport.Dial(ctx, d, addr)
	if err != nil {
		return nil, err
	}
	return newBatchConn(c), nil
}

type batchListener struct{ net.Listener }

// Accept accepts the next connection, batched.
func (l batchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newBatchConn(c), nil
}

// ZMTP 3 framing, as far as the writer needs it.
const (
	greetingLen = 64
	flagMore    = 0x01
	flagLong    = 0x02
	flagCommand = 0x04
	// maxKeep is the largest output buffer kept between messages.
	maxKeep = 1 << 20
)

// batchConn reads through a buffer and holds written bytes until a whole
// ZMTP message (or the greeting, or a command) has been written, then sends
// it with one write. It follows the framing of what passes through: after
// the 64-byte greeting, frames of a flags byte, a one- or eight-byte size and
// a body; a frame without the MORE flag, or a command, ends a message.
type batchConn struct {
	net.Conn
	r *bufio.Reader

	mu       sync.Mutex
	out      []byte
	greeting int     // greeting bytes still to pass
	hdr      [9]byte // the frame header being read
	nhdr     int     // bytes of hdr filled
	body     uint64  // body bytes still to come
	inBody   bool    // between header and end of body
	last     bool    // the current frame ends its message
}

func newBatchConn(c net.Conn) *batchConn {
	return &batchConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), greeting: greetingLen}
}

// Read reads through the buffer.
func (c *batchConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Write holds p until it completes the greeting, a command or a message,
// then writes everything held at once.
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, p...)
	flush := false
	for q := p; len(q) > 0 || c.frameDone(); {
		if c.frameDone() {
			flush = flush || c.last
			c.inBody, c.nhdr = false, 0
			continue
		}
		switch {
		case c.greeting > 0:
			n := min(len(q), c.greeting)
			c.greeting -= n
			q = q[n:]
			flush = flush || c.greeting == 0
		case !c.inBody:
			c.hdr[c.nhdr] = q[0]
			c.nhdr++
			q = q[1:]
			if c.nhdr == c.headerLen() {
				c.startBody()
			}
		default:
			n := uint64(len(q))
			if n > c.body {
				n = c.body
			}
			c.body -= n
			q = q[n:]
		}
	}
	if !flush {
		return len(p), nil
	}
	_, err := c.Conn.Write(c.out)
	if cap(c.out) > maxKeep {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// headerLen is the length of the frame header whose flags byte is hdr[0].
func (c *batchConn) headerLen() int {
	if c.hdr[0]&flagLong != 0 {
		return 9
	}
	return 2
}

func (c *batchConn) startBody() {
	flags := c.hdr[0]
	if flags&flagLong != 0 {
		c.body = binary.BigEndian.Uint64(c.hdr[1:9])
	} else {
		c.body = uint64(c.hdr[1])
	}
	c.inBody = true
	c.last = flags&flagMore == 0 || flags&flagCommand != 0
}

// frameDone reports whether a frame's body has been written completely.
func (c *batchConn) frameDone() bool { return c.inBody && c.body == 0 }
