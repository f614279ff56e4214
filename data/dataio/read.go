package dataio

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// FormatError reports a file whose contents are not what its format
// requires: File names the file (or stream), Offset is the byte at which
// reading found the problem (counted in the decompressed data for gzipped
// files), and Msg says what was wrong.
type FormatError struct {
	File   string
	Offset int64
	Msg    string
}

// Error returns the message, prefixed with the package and file names.
func (e *FormatError) Error() string {
	return fmt.Sprintf("dataio: %s: %s", e.File, e.Msg)
}

// errAt returns a *FormatError whose message starts with the byte offset.
func errAt(name string, offset int64, format string, args ...any) error {
	return &FormatError{File: name, Offset: offset, Msg: fmt.Sprintf("at byte %d: ", offset) + fmt.Sprintf(format, args...)}
}

// counter is a reader that knows how many bytes it has delivered, so that
// errors can name the offset.
type counter struct {
	r     io.Reader
	n     int64
	ctx   string // "" or a note such as "of the gunzipped data", for messages
	limit int64  // the stream's total size when known in advance, else -1
}

// newCounter returns a counter over r, which holds limit bytes in all
// (-1: unknown).
func newCounter(r io.Reader, limit int64) *counter {
	return &counter{r: r, limit: limit}
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// header reads exactly len(p) bytes of a header, reporting a short read as
// truncation at the offset where the data ran out.
func (c *counter) header(name string, p []byte, what string) error {
	start := c.n
	n, err := io.ReadFull(c, p)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FormatError{File: name, Offset: c.n, Msg: fmt.Sprintf("truncated at byte %d%s: want %d bytes of %s from byte %d, file has %d", c.n, c.ctx, len(p), what, start, n)}
	}
	return fmt.Errorf("dataio: %s: reading %s at byte %d%s: %w", name, what, c.n, c.ctx, err)
}

// maxChunk bounds each step of growing a data buffer, so that a header
// promising more data than the file holds costs at most about twice the
// bytes actually present.
const maxChunk = 1 << 22

// data reads exactly n bytes of array data; see read.
func (c *counter) data(name string, n int64) ([]byte, error) {
	return c.read(name, n, "data")
}

// read reads exactly n bytes of what (data, a header). When the stream's
// size is known, a request for more than it holds fails before reading;
// otherwise the buffer grows with the bytes that actually arrive, so a
// header promising gigabytes over a short file fails without allocating
// them.
func (c *counter) read(name string, n int64, what string) ([]byte, error) {
	start := c.n
	if n < 0 || n > math.MaxInt {
		return nil, errAt(name, start, "%d bytes of %s do not fit in memory", n, what)
	}
	if c.limit >= 0 && start+n > c.limit {
		have := max(c.limit-start, 0)
		return nil, &FormatError{File: name, Offset: c.limit, Msg: fmt.Sprintf("truncated at byte %d%s: want %d bytes of %s from byte %d, file has %d", c.limit, c.ctx, n, what, start, have)}
	}
	buf := make([]byte, 0, min(n, maxChunk))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grow := min(n-int64(len(buf)), max(int64(len(buf)), maxChunk))
			buf = append(buf, make([]byte, grow)...)[:len(buf)]
		}
		m, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if int64(len(buf)) == n {
			break
		}
		if err == io.EOF {
			return nil, &FormatError{File: name, Offset: c.n, Msg: fmt.Sprintf("truncated at byte %d%s: want %d bytes of %s from byte %d, file has %d", c.n, c.ctx, n, what, start, len(buf))}
		}
		if err != nil {
			return nil, fmt.Errorf("dataio: %s: reading %s at byte %d%s: %w", name, what, c.n, c.ctx, err)
		}
	}
	return buf, nil
}

// end checks that nothing follows the data.
func (c *counter) end(name string) error {
	var b [512]byte
	at := c.n
	n, err := io.ReadFull(c, b[:])
	if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
		return nil
	}
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return fmt.Errorf("dataio: %s: reading at byte %d%s: %w", name, c.n, c.ctx, err)
	}
	extra := fmt.Sprintf("%d", n)
	if n == len(b) {
		extra = fmt.Sprintf("at least %d", n)
	}
	return errAt(name, at, "%s unexpected bytes after the data%s (a header that promises too little, or another format)", extra, c.ctx)
}

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

// maybeGunzip returns a counter over r's contents, decompressed when they
// start with the gzip magic bytes (whatever the file is called). size is
// r's length when known, else -1.
func maybeGunzip(name string, r io.Reader, size int64) (*counter, func() error, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(2)
	if len(head) == 2 && head[0] == gzipMagic[0] && head[1] == gzipMagic[1] {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("dataio: %s: starts like a gzip file but its gzip header is bad: %w", name, err)
		}
		c := newCounter(zr, -1)
		c.ctx = " of the gunzipped data"
		return c, zr.Close, nil
	}
	return newCounter(br, size), func() error { return nil }, nil
}

// streamSize returns the number of bytes left in r when r can tell (a file,
// a bytes.Reader, a strings.Reader), else -1.
func streamSize(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		pos, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		return fi.Size() - pos
	}
	return -1
}

// openFile opens path for reading.
func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataio: %w", err)
	}
	return f, nil
}

// shapeBytes returns the number of elements and bytes an array of the given
// shape and element size occupies, or an error when that overflows.
func shapeBytes(shape []int, size int) (elems, bytes int64, ok bool) {
	elems = 1
	for _, d := range shape {
		if d < 0 {
			return 0, 0, false
		}
		if d != 0 && elems > math.MaxInt64/int64(d) {
			return 0, 0, false
		}
		elems *= int64(d)
	}
	if elems > math.MaxInt64/int64(size) {
		return 0, 0, false
	}
	return elems, elems * int64(size), true
}

// writeFile creates path, lets write fill it, and reports the first error
// including the one from closing the file.
func writeFile(path string, write func(w io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("dataio: %w", err)
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("dataio: %w", cerr)
	}
	return err
}
