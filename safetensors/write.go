package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Write writes entries as F32 tensors, with metadata (omitted when empty) as
// the header's "__metadata__", to w in safetensors format. It validates every
// entry first (non-empty, unique, valid UTF-8 names other than
// "__metadata__"; non-negative dimensions; len(Data) == product(Shape)) and
// writes nothing if any is invalid. Tensors are laid out in sorted name order,
// the header is padded with spaces so the data starts at an 8-byte-aligned
// offset, and the data is streamed in bounded chunks rather than assembled in
// memory.
func Write(w io.Writer, entries []Entry, metadata map[string]string) error {
	p, err := plan(entries, metadata, "")
	if err != nil {
		return err
	}
	return p.writeTo(w)
}

// Save writes entries and metadata to the file at path as Write does,
// atomically: it writes a temporary file in the same directory, syncs it to
// stable storage, and renames it over path, so a crash never leaves a
// half-written file at path. A new file gets permissions 0644; a replaced
// file keeps its permissions.
func Save(path string, entries []Entry, metadata map[string]string) error {
	p, err := plan(entries, metadata, path)
	if err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := p.writeTo(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	done = true
	// Make the rename itself durable. Not every platform can sync a
	// directory, so this is best effort.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// writePlan is a validated set of entries with its encoded header.
type writePlan struct {
	name    string  // file name for error messages, or ""
	entries []Entry // sorted by name
	header  []byte  // JSON, padded with spaces to 8-byte alignment
}

// plan validates entries and metadata and builds the header.
func plan(entries []Entry, metadata map[string]string, name string) (*writePlan, error) {
	for i, e := range entries {
		switch {
		case e.Name == "":
			return nil, errorf(name, "entry %d has an empty name", i)
		case !utf8.ValidString(e.Name):
			return nil, errorf(name, "entry %d: name %q is not valid UTF-8", i, e.Name)
		case e.Name == metadataKey:
			return nil, errorf(name, "entry %d: name %q is reserved", i, e.Name)
		}
		shape := make([]int64, len(e.Shape))
		for j, d := range e.Shape {
			if d < 0 {
				return nil, tensorErrorf(name, e.Name, "shape %v has negative dimension %d", e.Shape, d)
			}
			shape[j] = int64(d)
		}
		n, ok := numElements(shape)
		if !ok || n > math.MaxInt64/4 {
			return nil, tensorErrorf(name, e.Name, "shape %v has too many elements", e.Shape)
		}
		if int64(len(e.Data)) != n {
			return nil, tensorErrorf(name, e.Name, "shape %v needs %d elements but Data has %d", e.Shape, n, len(e.Data))
		}
	}
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Name == sorted[i-1].Name {
			return nil, tensorErrorf(name, sorted[i].Name, "duplicate tensor name")
		}
	}
	keys := make([]string, 0, len(metadata))
	for k, v := range metadata {
		if !utf8.ValidString(k) {
			return nil, errorf(name, "metadata key %q is not valid UTF-8", k)
		}
		if !utf8.ValidString(v) {
			return nil, errorf(name, "metadata value %q of key %q is not valid UTF-8", v, k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)

	var h bytes.Buffer
	h.WriteByte('{')
	if len(keys) > 0 {
		appendJSONString(&h, metadataKey)
		h.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			appendJSONString(&h, k)
			h.WriteByte(':')
			appendJSONString(&h, metadata[k])
		}
		h.WriteByte('}')
	}
	var off int64
	for i, e := range sorted {
		if i > 0 || len(keys) > 0 {
			h.WriteByte(',')
		}
		appendJSONString(&h, e.Name)
		h.WriteString(`:{"dtype":"F32","shape":[`)
		for j, d := range e.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		n := int64(len(e.Data)) * 4
		if off > math.MaxInt64-n {
			return nil, tensorErrorf(name, e.Name, "total data size overflows int64")
		}
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, off+n)
		off += n
		if h.Len() > MaxHeaderLen {
			break // reported below
		}
	}
	h.WriteByte('}')
	for (8+h.Len())%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > MaxHeaderLen {
		return nil, errorf(name, "header would exceed the limit of %d bytes", MaxHeaderLen)
	}
	return &writePlan{name: name, entries: sorted, header: h.Bytes()}, nil
}

// writeTo streams the file: header length, header, then every tensor's data
// packed into chunks of at most chunkSize bytes.
func (p *writePlan) writeTo(w io.Writer) error {
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(p.header)))
	if err := p.write(w, lenBuf[:]); err != nil {
		return err
	}
	if err := p.write(w, p.header); err != nil {
		return err
	}
	var total int64
	for _, e := range p.entries {
		total += int64(len(e.Data)) * 4
	}
	buf := make([]byte, 0, min(total, chunkSize))
	for _, e := range p.entries {
		for _, v := range e.Data {
			if len(buf) == cap(buf) {
				if err := p.write(w, buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	if len(buf) > 0 {
		return p.write(w, buf)
	}
	return nil
}

func (p *writePlan) write(w io.Writer, b []byte) error {
	n, err := w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return errorf(p.name, "writing: %w", err)
	}
	return nil
}

// appendJSONString writes s, which must be valid UTF-8, as a JSON string
// literal, escaping only what JSON requires.
func appendJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
