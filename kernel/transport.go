package kernel

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
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

// ZMTP 3 framing, as far as the kernel needs it.
const (
	greetingLen = 64
	flagMore    = 0x01
	flagLong    = 0x02
	flagCommand = 0x04
	// maxKeep is the largest output buffer kept between messages.
	maxKeep = 1 << 20
	// maxFrame is the largest frame a peer may announce. zmq4 allocates
	// whatever size a frame header announces before the message's signature
	// can be checked, so without a bound any local process that reaches a
	// port could make the kernel allocate until it dies.
	maxFrame = 1 << 30
)

// framing follows the ZMTP stream passing one way through a connection:
// after the 64-byte greeting, frames of a flags byte, a one- or eight-byte
// size and a body; a frame without the MORE flag, or a command, ends a
// message.
type framing struct {
	greeting int     // greeting bytes still to pass
	hdr      [9]byte // the frame header being read
	nhdr     int     // bytes of hdr filled
	body     uint64  // body bytes still to come
	inBody   bool    // between header and end of body
	last     bool    // the current frame ends its message
}

func newFraming() framing { return framing{greeting: greetingLen} }

// errFrameTooLarge ends a connection whose peer announces a frame over
// maxFrame.
type errFrameTooLarge uint64

func (e errFrameTooLarge) Error() string {
	return fmt.Sprintf("kernel: peer announced a ZMTP frame of %d bytes (the limit is %d); closing the connection", uint64(e), maxFrame)
}

// advance consumes q and reports whether it completed the greeting, a
// command or a message; it fails on a frame larger than maxFrame.
func (f *framing) advance(q []byte) (ended bool, err error) {
	for len(q) > 0 || f.frameDone() {
		if f.frameDone() {
			ended = ended || f.last
			f.inBody, f.nhdr = false, 0
			continue
		}
		switch {
		case f.greeting > 0:
			n := min(len(q), f.greeting)
			f.greeting -= n
			q = q[n:]
			ended = ended || f.greeting == 0
		case !f.inBody:
			f.hdr[f.nhdr] = q[0]
			f.nhdr++
			q = q[1:]
			if f.nhdr == f.headerLen() {
				if err := f.startBody(); err != nil {
					return ended, err
				}
			}
		default:
			n := min(uint64(len(q)), f.body)
			f.body -= n
			q = q[n:]
		}
	}
	return ended, nil
}

// headerLen is the length of the frame header whose flags byte is hdr[0].
func (f *framing) headerLen() int {
	if f.hdr[0]&flagLong != 0 {
		return 9
	}
	return 2
}

func (f *framing) startBody() error {
	flags := f.hdr[0]
	if flags&flagLong != 0 {
		f.body = binary.BigEndian.Uint64(f.hdr[1:9])
	} else {
		f.body = uint64(f.hdr[1])
	}
	if f.body > maxFrame {
		return errFrameTooLarge(f.body)
	}
	f.inBody = true
	f.last = flags&flagMore == 0 || flags&flagCommand != 0
	return nil
}

// frameDone reports whether a frame's body has passed completely.
func (f *framing) frameDone() bool { return f.inBody && f.body == 0 }

// batchConn reads through a buffer, checking the sizes that incoming frames
// announce, and holds written bytes until a whole ZMTP message (or the
// greeting, or a command) has been written, then sends it with one write.
type batchConn struct {
	net.Conn
	r *bufio.Reader

	rmu      sync.Mutex
	in       framing
	inErr    error
	mu       sync.Mutex
	out      []byte
	outgoing framing
}

func newBatchConn(c net.Conn) *batchConn {
	return &batchConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), in: newFraming(), outgoing: newFraming()}
}

// Read reads through the buffer and fails (for good) once the peer
// announces a frame larger than maxFrame, before zmq4 allocates it.
func (c *batchConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.inErr != nil {
		return 0, c.inErr
	}
	n, err := c.r.Read(p)
	if _, ferr := c.in.advance(p[:n]); ferr != nil {
		c.inErr = ferr
		c.Conn.Close()
		return 0, ferr
	}
	return n, err
}

// Write holds p until it completes the greeting, a command or a message,
// then writes everything held at once.
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, p...)
	flush, err := c.outgoing.advance(p)
	if err != nil {
		return 0, err
	}
	if !flush {
		return len(p), nil
	}
	_, err = c.Conn.Write(c.out)
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
