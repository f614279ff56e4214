package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
)

// recordConn is a net.Conn that records each write.
type recordConn struct {
	net.Conn
	writes [][]byte
}

func (r *recordConn) Write(p []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), p...))
	return len(p), nil
}

// frame returns a ZMTP frame's header and body as zmq4 writes them.
func frame(flags byte, body []byte) (hdr []byte) {
	if len(body) > 255 {
		hdr = make([]byte, 9)
		hdr[0] = flags | flagLong
		binary.BigEndian.PutUint64(hdr[1:], uint64(len(body)))
		return hdr
	}
	return []byte{flags, byte(len(body))}
}

func TestBatchConnWritesWholeMessages(t *testing.T) {
	rec := &recordConn{}
	c := newBatchConn(rec)
	write := func(chunks ...[]byte) {
		for _, ch := range chunks {
			if n, err := c.Write(ch); err != nil || n != len(ch) {
				t.Fatalf("Write(%d bytes) = %d, %v", len(ch), n, err)
			}
		}
	}
	var want [][]byte
	// The greeting, in one write as zmq4 sends it.
	greeting := bytes.Repeat([]byte{0x7f}, greetingLen)
	write(greeting)
	want = append(want, greeting)
	// A READY command: header and body written apart, sent together.
	ready := []byte("\x05READYxyz")
	write(frame(flagCommand, ready), ready)
	want = append(want, append(frame(flagCommand, ready), ready...))
	// A message of a short frame, a long one and an empty last one.
	short, long := []byte("<IDS|MSG>"), bytes.Repeat([]byte("j"), 300)
	var msg []byte
	for _, f := range []struct {
		flags byte
		body  []byte
	}{{flagMore, short}, {flagMore, long}, {0, nil}} {
		h := frame(f.flags, f.body)
		write(h, f.body)
		msg = append(append(msg, h...), f.body...)
	}
	want = append(want, msg)
	// The same message again, one byte at a time.
	for i := range msg {
		write(msg[i : i+1])
	}
	want = append(want, msg)
	if len(rec.writes) != len(want) {
		t.Fatalf("%d writes reached the connection, want %d", len(rec.writes), len(want))
	}
	for i := range want {
		if !bytes.Equal(rec.writes[i], want[i]) {
			t.Fatalf("write %d = %q, want %q", i, rec.writes[i], want[i])
		}
	}
}

// TestBatchConnRefusesHugeFrames: a peer that announces a frame larger than
// maxFrame gets its connection closed before zmq4 could allocate the frame,
// while ordinary frames read through unchanged.
func TestBatchConnRefusesHugeFrames(t *testing.T) {
	greeting := bytes.Repeat([]byte{0x7f}, greetingLen)
	body := bytes.Repeat([]byte("m"), 300)
	ok := append(append(append([]byte(nil), greeting...), frame(flagMore, body)...), body...)
	huge := make([]byte, 9)
	huge[0] = flagLong
	binary.BigEndian.PutUint64(huge[1:], 1<<40)

	local, remote := net.Pipe()
	defer local.Close()
	go func() {
		remote.Write(ok)
		remote.Write(huge)
		remote.Close()
	}()
	c := newBatchConn(local)
	got := make([]byte, len(ok))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, ok) {
		t.Fatalf("ordinary frames: read %d bytes, %v", len(got), err)
	}
	_, err := io.ReadAll(c)
	var tooLarge errFrameTooLarge
	if !errors.As(err, &tooLarge) || uint64(tooLarge) != 1<<40 {
		t.Fatalf("a frame of 2^40 bytes: read error %v, want errFrameTooLarge", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.As(err, &tooLarge) {
		t.Errorf("after refusing, Read returned %v, want the same error", err)
	}
}
