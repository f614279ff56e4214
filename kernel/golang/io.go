package golang

import (
	"bytes"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel"
)

// flushInterval is how long written text may wait before it is sent to the
// frontend: short enough to look live, long enough to batch a loop's prints
// into a few messages.
const flushInterval = 20 * time.Millisecond

// maxPending is the most text kept while no cell is running (output of a
// background goroutine between cells); older text is dropped.
const maxPending = 1 << 20

// cellIO routes everything a cell writes or displays to the Output of the
// cell that is running. It outlives the yaegi interpreter (Reset keeps it), so
// writers captured by user code in one cell keep working in the next.
type cellIO struct {
	mu      sync.Mutex
	out     kernel.Output // nil between cells
	pending [2][]byte     // stdout, stderr
	timer   *time.Timer

	// The os.Stdout and os.Stderr that cells see: the write ends of pipes
	// whose read ends are forwarded into pending.
	files [2]*os.File
	pipes [2]*pipeReader
	stdin stdinReader
}

var streamNames = [2]string{"stdout", "stderr"}

func newCellIO() (*cellIO, error) {
	c := &cellIO{}
	c.stdin.c = c
	for k := range 2 {
		r, w, err := os.Pipe()
		if err != nil {
			c.close()
			return nil, err
		}
		c.files[k] = w
		c.pipes[k] = newPipeReader(r, c, k)
	}
	return c, nil
}

// close releases the pipes.
func (c *cellIO) close() {
	for k := range 2 {
		if c.files[k] != nil {
			c.files[k].Close()
		}
		if c.pipes[k] != nil {
			c.pipes[k].wait()
		}
	}
}

// begin directs output to out, sending any text left from between cells.
func (c *cellIO) begin(out kernel.Output) {
	c.mu.Lock()
	c.out = out
	c.mu.Unlock()
	c.flush(false)
}

// end sends everything the cell wrote (including text still in the pipes)
// and detaches the cell's Output.
func (c *cellIO) end() {
	c.sync()
	c.flush(true)
	c.mu.Lock()
	c.out = nil
	c.mu.Unlock()
	// Input typed for this cell and not read is not kept for the next one.
	// (A reader still blocked in Input keeps the lock; it gets io.EOF later.)
	if c.stdin.mu.TryLock() {
		c.stdin.buf = nil
		c.stdin.mu.Unlock()
	}
}

// sync waits until text written to the os.Stdout and os.Stderr pipes before
// the call has been read into pending.
func (c *cellIO) sync() {
	for k := range 2 {
		c.pipes[k].sync(c.files[k])
	}
}

// write adds text to stream k and arranges for it to be flushed soon.
func (c *cellIO) write(k int, p []byte) {
	c.mu.Lock()
	c.pending[k] = append(c.pending[k], p...)
	if c.out == nil && len(c.pending[k]) > maxPending {
		c.pending[k] = append([]byte(nil), c.pending[k][len(c.pending[k])-maxPending:]...)
	}
	big := len(c.pending[k]) > 64<<10
	if c.timer == nil && !big {
		c.timer = time.AfterFunc(flushInterval, func() { c.flush(false) })
	}
	c.mu.Unlock()
	if big {
		c.flush(false)
	}
}

// flush sends pending text to the cell's Output. Unless all is true, a
// trailing incomplete UTF-8 sequence is kept for the next flush.
func (c *cellIO) flush(all bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.out == nil {
		return
	}
	for k := range 2 {
		p := c.pending[k]
		if len(p) == 0 {
			continue
		}
		n := len(p)
		if !all {
			n = completeUTF8(p)
		}
		if n == 0 {
			continue
		}
		text := string(p[:n])
		c.pending[k] = append(c.pending[k][:0], p[n:]...)
		c.out.Stream(streamNames[k], text)
	}
}

// completeUTF8 returns the length of p without a trailing incomplete UTF-8
// sequence.
func completeUTF8(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				return i
			}
			break
		}
	}
	return len(p)
}

// output returns the running cell's Output after flushing pending text, so
// that displays and results come after what was printed before them.
func (c *cellIO) output() kernel.Output {
	c.flush(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out
}

// streamWriter is the io.Writer for stream k (fmt.Print* and the log
// package write here).
type streamWriter struct {
	c *cellIO
	k int
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.c.write(w.k, p)
	return len(p), nil
}

// frontend forwards display.Show, Update and Clear to the running cell.
type frontend struct{ c *cellIO }

// Publish implements display.Frontend.
func (f frontend) Publish(b display.Bundle, id string, update bool) {
	if out := f.c.output(); out != nil {
		out.Display(b, id, update)
	}
}

// Clear implements display.Frontend.
func (f frontend) Clear(wait bool) {
	if out := f.c.output(); out != nil {
		out.Clear(wait)
	}
}

// syncMarker is written into a pipe to learn when everything written before
// it has been read. Writes up to PIPE_BUF bytes are atomic, so it never
// interleaves with text written by other goroutines.
var syncMarker = []byte("\x00\x1bgraft-sync\x1b\x00")

// pipeReader forwards what cells write to os.Stdout or os.Stderr.
type pipeReader struct {
	r      *os.File
	c      *cellIO
	k      int
	synced chan struct{}
	done   chan struct{}
}

func newPipeReader(r *os.File, c *cellIO, k int) *pipeReader {
	p := &pipeReader{r: r, c: c, k: k, synced: make(chan struct{}, 1), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *pipeReader) loop() {
	defer close(p.done)
	defer p.r.Close()
	buf := make([]byte, 32<<10)
	var carry []byte
	for {
		n, err := p.r.Read(buf)
		if n > 0 {
			data := append(carry, buf[:n]...)
			carry = nil
			for {
				i := bytes.Index(data, syncMarker)
				if i < 0 {
					break
				}
				if i > 0 {
					p.c.write(p.k, data[:i])
				}
				data = data[i+len(syncMarker):]
				select {
				case p.synced <- struct{}{}:
				default:
				}
			}
			// Keep a tail that may be the start of a marker.
			keep := 0
			for l := min(len(data), len(syncMarker)-1); l > 0; l-- {
				if bytes.HasPrefix(syncMarker, data[len(data)-l:]) {
					keep = l
					break
				}
			}
			if len(data) > keep {
				p.c.write(p.k, data[:len(data)-keep])
			}
			carry = append([]byte(nil), data[len(data)-keep:]...)
		}
		if err != nil {
			if len(carry) > 0 {
				p.c.write(p.k, carry)
			}
			return
		}
	}
}

// sync writes a marker through w and waits (at most a second) until the
// reader has passed it.
func (p *pipeReader) sync(w *os.File) {
	select {
	case <-p.synced: // a stale signal
	default:
	}
	if _, err := w.Write(syncMarker); err != nil {
		return
	}
	select {
	case <-p.synced:
	case <-p.done:
	case <-time.After(time.Second):
	}
}

func (p *pipeReader) wait() { <-p.done }

// stdinReader is what cells read as os.Stdin and what fmt.Scan* reads: each
// time its buffer is empty it asks the frontend for a line of input.
type stdinReader struct {
	c   *cellIO
	mu  sync.Mutex
	buf []byte
}

// Read implements io.Reader. It fails with the Output's error when the
// frontend does not allow input, and with io.EOF between cells.
func (s *stdinReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) == 0 {
		out := s.c.output()
		if out == nil {
			return 0, io.EOF
		}
		line, err := out.Input("", false)
		if err != nil {
			return 0, err
		}
		s.buf = append([]byte(line), '\n')
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// Stdin is the type of os.Stdin inside cells: a reader that prompts the
// frontend. It has the methods of *os.File that make sense for it.
type Stdin struct{ r *stdinReader }

// Read reads input typed into the frontend.
func (s *Stdin) Read(p []byte) (int, error) { return s.r.Read(p) }

// Close does nothing: the frontend's input cannot be closed.
func (s *Stdin) Close() error { return nil }

// Name returns "/dev/stdin".
func (s *Stdin) Name() string { return "/dev/stdin" }

// discard is the Output of a silent cell: nothing reaches the frontend, but
// input still works.
type discard struct{ kernel.Output }

func (discard) Stream(string, string)                {}
func (discard) Display(display.Bundle, string, bool) {}
func (discard) Result(display.Bundle)                {}
func (discard) Clear(bool)                           {}
