package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// File is an opened safetensors file whose header has been read and
// validated. Tensor data is read on demand from the underlying io.ReaderAt.
// A File is safe for concurrent use when its io.ReaderAt is (an *os.File is).
type File struct {
	r        io.ReaderAt
	closer   io.Closer
	name     string
	size     int64
	tensors  []TensorInfo // sorted by Offset, then Name
	index    map[string]int
	metadata map[string]string
}

// Open opens the safetensors file at path, reads and validates its header,
// and keeps the file open for reading tensor data until Close is called.
// Errors name the file as path.
func Open(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if st.IsDir() {
		osf.Close()
		return nil, errorf(path, "is a directory")
	}
	f, err := newFile(osf, st.Size(), path)
	if err != nil {
		osf.Close()
		return nil, err
	}
	f.closer = osf
	return f, nil
}

// NewReader reads and validates the header of the safetensors data held in
// the first size bytes of r. The returned File reads tensor data from r on
// demand, so r must stay usable while the File is; its Close does not close r.
func NewReader(r io.ReaderAt, size int64) (*File, error) {
	return newFile(r, size, "")
}

// Close closes the file opened by Open. It does nothing for a File made by
// NewReader, and nothing after the first call.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	if err := c.Close(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// Tensors returns a description of every tensor in the file, sorted by data
// offset; ties, which involve empty tensors, are ordered by length and then
// name. The result is a copy the caller may modify.
func (f *File) Tensors() []TensorInfo {
	out := make([]TensorInfo, len(f.tensors))
	for i, t := range f.tensors {
		t.Shape = slices.Clone(t.Shape)
		out[i] = t
	}
	return out
}

// Names returns the names of all tensors in the file, sorted lexically.
func (f *File) Names() []string {
	names := make([]string, len(f.tensors))
	for i, t := range f.tensors {
		names[i] = t.Name
	}
	slices.Sort(names)
	return names
}

// Info returns the description of the named tensor, and whether it exists.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	t := f.tensors[i]
	t.Shape = slices.Clone(t.Shape)
	return t, true
}

// Metadata returns a copy of the header's "__metadata__" map, or nil if the
// header has none.
func (f *File) Metadata() map[string]string {
	if f.metadata == nil {
		return nil
	}
	m := make(map[string]string, len(f.metadata))
	for k, v := range f.metadata {
		m[k] = v
	}
	return m
}

// ReadFloat32 reads the named tensor, converting its elements to float32, and
// returns them in row-major order together with a copy of its shape. F32,
// F16, BF16 and BOOL (nonzero is 1) convert exactly; F64, I64 and I32 round
// to the nearest float32; I16, I8 and U8 convert exactly.
func (f *File) ReadFloat32(name string) ([]float32, []int, error) {
	t, err := f.lookup(name)
	if err != nil {
		return nil, nil, err
	}
	n := t.Length / dtypeSizes[t.DType]
	if n > math.MaxInt {
		return nil, nil, tensorErrorf(f.name, name, "%d elements do not fit in a slice", n)
	}
	dst := make([]float32, n)
	if err := f.read(t, dst); err != nil {
		return nil, nil, err
	}
	return dst, slices.Clone(t.Shape), nil
}

// ReadInto reads the named tensor into dst, converting its elements to
// float32 as ReadFloat32 does. len(dst) must equal the tensor's element
// count. On error dst may have been partly overwritten.
func (f *File) ReadInto(name string, dst []float32) error {
	t, err := f.lookup(name)
	if err != nil {
		return err
	}
	if n := t.Length / dtypeSizes[t.DType]; int64(len(dst)) != n {
		return tensorErrorf(f.name, name, "destination has %d elements but shape %v has %d", len(dst), t.Shape, n)
	}
	return f.read(t, dst)
}

// Load opens the safetensors file at path, reads every tensor converted to
// float32 (see ReadFloat32), and returns the tensors sorted by name together
// with the header's metadata (nil if it has none). It is all or nothing: on
// any error it returns nil entries and nil metadata.
func Load(path string) ([]Entry, map[string]string, error) {
	f, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	entries, err := f.readAll()
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, err
	}
	return entries, f.Metadata(), nil
}

// readAll reads every tensor in data-offset order, so the file is read
// sequentially, and returns them sorted by name; nil on any error.
func (f *File) readAll() ([]Entry, error) {
	entries := make([]Entry, 0, len(f.tensors))
	for i := range f.tensors {
		data, shape, err := f.ReadFloat32(f.tensors[i].Name)
		if err != nil {
			return nil, err
		}
		entries = append(entries, Entry{Name: f.tensors[i].Name, Shape: shape, Data: data})
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return entries, nil
}

func (f *File) lookup(name string) (*TensorInfo, error) {
	i, ok := f.index[name]
	if !ok {
		return nil, errorf(f.name, "no tensor named %q", name)
	}
	return &f.tensors[i], nil
}

// read streams t's data into dst (len(dst) == t's element count) in chunks
// of at most chunkSize bytes, reading every byte exactly once.
func (f *File) read(t *TensorInfo, dst []float32) error {
	size := dtypeSizes[t.DType]
	conv := converters[t.DType]
	buf := make([]byte, min(t.Length, chunkSize))
	off, end := t.Offset, t.Offset+t.Length
	for off < end {
		b := buf[:min(end-off, chunkSize)]
		if err := readFull(f.r, b, off); err != nil {
			return tensorErrorf(f.name, t.Name, "reading data at file offset %d: %w", off, err)
		}
		k := len(b) / int(size)
		conv(dst[:k], b)
		dst = dst[k:]
		off += int64(len(b))
	}
	return nil
}

// readFull fills p from r starting at off, returning io.ErrUnexpectedEOF if
// the data ends first.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	for len(p) > 0 {
		n, err := r.ReadAt(p, off)
		p = p[n:]
		off += int64(n)
		if len(p) == 0 {
			return nil
		}
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrNoProgress
		}
	}
	return nil
}

// newFile reads and validates the header; name is used in error messages.
func newFile(r io.ReaderAt, size int64, name string) (*File, error) {
	f := &File{r: r, name: name, size: size}
	if size < 8 {
		return nil, errorf(name, "file is %d bytes, too small to hold the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if err := readFull(r, lenBuf[:], 0); err != nil {
		return nil, errorf(name, "reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	switch {
	case n < 2:
		return nil, errorf(name, "header length %d is too small (minimum 2)", n)
	case n > MaxHeaderLen:
		return nil, errorf(name, "header length %d exceeds the limit of %d bytes", n, MaxHeaderLen)
	case n > uint64(size-8):
		return nil, errorf(name, "header length %d runs past the end of the file (file size %d bytes)", n, size)
	}
	hdr := make([]byte, n)
	if err := readFull(r, hdr, 8); err != nil {
		return nil, errorf(name, "reading %d-byte header: %w", n, err)
	}
	if err := f.parseHeader(hdr, 8+int64(n)); err != nil {
		return nil, err
	}
	return f, nil
}

// parseHeader parses and validates the JSON header; dataStart is the file
// offset of the data buffer.
func (f *File) parseHeader(hdr []byte, dataStart int64) error {
	if !utf8.Valid(hdr) {
		return errorf(f.name, "header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return errorf(f.name, "invalid header JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errorf(f.name, "header JSON is not an object (it starts with %s)", describeToken(tok))
	}
	f.index = make(map[string]int)
	seenMetadata := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errorf(f.name, "invalid header JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok { // cannot happen: the decoder only yields strings as object keys
			return errorf(f.name, "invalid header JSON: unexpected %s", describeToken(tok))
		}
		if key == metadataKey {
			if seenMetadata {
				return errorf(f.name, "duplicate %q key in header", metadataKey)
			}
			seenMetadata = true
			if err := f.parseMetadata(dec); err != nil {
				return err
			}
			continue
		}
		if _, dup := f.index[key]; dup {
			return tensorErrorf(f.name, key, "duplicate tensor name in header")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return tensorErrorf(f.name, key, "invalid header JSON: %v", err)
		}
		t, err := f.parseEntry(key, raw, dataStart)
		if err != nil {
			return err
		}
		f.index[key] = len(f.tensors)
		f.tensors = append(f.tensors, t)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return errorf(f.name, "invalid header JSON: %v", err)
	}
	if rest := bytes.TrimLeft(hdr[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return errorf(f.name, "header has unexpected data after the JSON object: %s", strconv.Quote(snippet(string(rest))))
	}
	return f.checkOverlap()
}

// parseMetadata parses the value of the "__metadata__" key, which must be an
// object whose values are all strings.
func (f *File) parseMetadata(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return errorf(f.name, "%s: invalid JSON: %v", metadataKey, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errorf(f.name, "%s is %s, not an object", metadataKey, describeToken(tok))
	}
	f.metadata = make(map[string]string)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errorf(f.name, "%s: invalid JSON: %v", metadataKey, err)
		}
		key, _ := tok.(string)
		if _, dup := f.metadata[key]; dup {
			return errorf(f.name, "%s: duplicate key %q", metadataKey, key)
		}
		tok, err = dec.Token()
		if err != nil {
			return errorf(f.name, "%s: invalid JSON: %v", metadataKey, err)
		}
		v, ok := tok.(string)
		if !ok {
			return errorf(f.name, "%s: value of key %q is %s, not a string", metadataKey, snippet(key), describeToken(tok))
		}
		f.metadata[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return errorf(f.name, "%s: invalid JSON: %v", metadataKey, err)
	}
	return nil
}

// parseEntry validates one tensor's header entry.
func (f *File) parseEntry(name string, raw json.RawMessage, dataStart int64) (TensorInfo, error) {
	bad := func(format string, args ...any) (TensorInfo, error) {
		return TensorInfo{}, tensorErrorf(f.name, name, format, args...)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return bad("header entry %s is not an object", rawSnippet(raw))
	}

	rawDType, ok := fields["dtype"]
	if !ok {
		return bad("missing dtype")
	}
	var dtype string
	if err := json.Unmarshal(rawDType, &dtype); err != nil {
		return bad("dtype %s is not a string", rawSnippet(rawDType))
	}
	elemSize, ok := dtypeSizes[dtype]
	if !ok {
		return bad("unknown dtype %q", snippet(dtype))
	}

	rawShape, ok := fields["shape"]
	if !ok {
		return bad("missing shape")
	}
	shape64, err := parseIntArray(rawShape)
	if err != nil {
		return bad("shape %s: %v", rawSnippet(rawShape), err)
	}
	for _, d := range shape64 {
		if d < 0 {
			return bad("shape %v has negative dimension %d", shape64, d)
		}
	}
	numel, ok := numElements(shape64)
	if !ok || numel > math.MaxInt64/elemSize {
		return bad("shape %v has too many elements", shape64)
	}
	shape := make([]int, len(shape64))
	for i, d := range shape64 {
		if d > math.MaxInt {
			return bad("shape %v has dimension %d, too large for int", shape64, d)
		}
		shape[i] = int(d)
	}

	rawOffsets, ok := fields["data_offsets"]
	if !ok {
		return bad("missing data_offsets")
	}
	offsets, err := parseIntArray(rawOffsets)
	if err != nil {
		return bad("data_offsets %s: %v", rawSnippet(rawOffsets), err)
	}
	if len(offsets) != 2 {
		return bad("data_offsets %v must have exactly 2 elements, has %d", offsets, len(offsets))
	}
	begin, end := offsets[0], offsets[1]
	if begin < 0 || end < 0 {
		return bad("data_offsets [%d, %d] are negative", begin, end)
	}
	if begin > end {
		return bad("data_offsets [%d, %d] have begin > end", begin, end)
	}

	if want := numel * elemSize; end-begin != want {
		return bad("data_offsets [%d, %d] span %d bytes but dtype %s with shape %v needs %d bytes",
			begin, end, end-begin, dtype, shape, want)
	}
	if dataLen := f.size - dataStart; end > dataLen {
		return bad("data_offsets [%d, %d]: the tensor's data runs past the end of the file (file size %d bytes, data buffer %d bytes)",
			begin, end, f.size, dataLen)
	}
	return TensorInfo{Name: name, DType: dtype, Shape: shape, Offset: dataStart + begin, Length: end - begin}, nil
}

// checkOverlap sorts f.tensors by offset, rebuilds f.index, and rejects any
// two tensors whose data share a byte. Empty tensors occupy no bytes and so
// never overlap.
func (f *File) checkOverlap() error {
	slices.SortFunc(f.tensors, func(a, b TensorInfo) int {
		if a.Offset != b.Offset {
			return cmpInt64(a.Offset, b.Offset)
		}
		if a.Length != b.Length {
			return cmpInt64(a.Length, b.Length)
		}
		return strings.Compare(a.Name, b.Name)
	})
	var prev *TensorInfo // the last non-empty tensor
	for i := range f.tensors {
		t := &f.tensors[i]
		f.index[t.Name] = i
		if t.Length == 0 {
			continue
		}
		if prev != nil && t.Offset < prev.Offset+prev.Length {
			return tensorErrorf(f.name, t.Name, "data at file offsets [%d, %d) overlaps tensor %q at [%d, %d)",
				t.Offset, t.Offset+t.Length, prev.Name, prev.Offset, prev.Offset+prev.Length)
		}
		prev = t
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseIntArray parses a JSON array of integer literals, rejecting null,
// non-arrays, fractions, exponents, strings and values outside int64.
func parseIntArray(raw json.RawMessage) ([]int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, errors.New("not an array")
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, errors.New("not an array")
	}
	out := make([]int64, len(elems))
	for i, e := range elems {
		s := string(bytes.TrimSpace(e))
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, fmt.Errorf("element %d (%s) is out of range", i, snippet(s))
			}
			return nil, fmt.Errorf("element %d (%s) is not an integer", i, snippet(s))
		}
		out[i] = v
	}
	return out, nil
}

// describeToken describes a JSON token for an error message.
func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return "string " + strconv.Quote(snippet(v))
	case json.Number:
		return "number " + snippet(string(v))
	case bool:
		return fmt.Sprintf("%t", v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// snippet shortens s for inclusion in an error message.
func snippet(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// rawSnippet is snippet for a raw JSON value, with runs of whitespace
// collapsed to one space.
func rawSnippet(b []byte) string {
	return snippet(strings.Join(strings.Fields(string(b)), " "))
}
