package dataio

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/graftml/graft/tensor"
)

// npyMagic starts every NPY file; the format version follows it.
const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header length a reader accepts (NumPy itself
// refuses headers over 10,000 bytes unless told otherwise).
const maxNPYHeader = 1 << 20

// npyArray is a decoded NPY array: its shape, element type and the raw
// element bytes in row-major (C) order.
type npyArray struct {
	shape []int
	et    elemType
	descr string
	raw   []byte
}

// ReadNPY reads the NumPy .npy file at path into a float32 tensor of the
// array's shape. It reads format versions 1.0, 2.0 and 3.0, little- and
// big-endian float16/32/64, signed and unsigned integers of 1 to 8 bytes and
// booleans (as 0 and 1), in C or Fortran order. Integers beyond 2^24 round
// to the nearest float32; use ReadNPYInts for exact integers.
func ReadNPY(path string) (*tensor.Tensor, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeNPY(f, path)
}

// DecodeNPY reads one NPY array from r, as ReadNPY does from a file; name
// identifies r in error messages.
func DecodeNPY(r io.Reader, name string) (*tensor.Tensor, error) {
	a, err := decodeNPY(newCounter(r, streamSize(r)), name)
	if err != nil {
		return nil, err
	}
	return a.tensor(), nil
}

// ReadNPYInts reads an .npy file of integers or booleans (or of floats that
// hold whole numbers), such as an array of labels, and returns its values in
// row-major order with the array's shape.
func ReadNPYInts(path string) (values []int, shape []int, err error) {
	f, err := openFile(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return DecodeNPYInts(f, path)
}

// DecodeNPYInts reads one NPY array of integers from r, as ReadNPYInts does
// from a file; name identifies r in error messages.
func DecodeNPYInts(r io.Reader, name string) (values []int, shape []int, err error) {
	a, err := decodeNPY(newCounter(r, streamSize(r)), name)
	if err != nil {
		return nil, nil, err
	}
	return a.ints(name)
}

func (a *npyArray) tensor() *tensor.Tensor {
	vals := a.et.toFloat32(a.raw)
	if len(a.shape) == 0 {
		return tensor.Scalar(vals[0])
	}
	return tensor.Wrap(vals, a.shape...)
}

func (a *npyArray) ints(name string) ([]int, []int, error) {
	vals, bad, why := a.et.toInts(a.raw)
	if bad >= 0 {
		return nil, nil, fmt.Errorf("dataio: %s: element %d of the %s array: %s", name, bad, a.descr, why)
	}
	return vals, a.shape, nil
}

// decodeNPY reads the magic string, header and data of an NPY array.
func decodeNPY(c *counter, name string) (*npyArray, error) {
	var pre [8]byte
	if err := c.header(name, pre[:], "NPY magic and version"); err != nil {
		return nil, err
	}
	if string(pre[:6]) != npyMagic {
		return nil, errAt(name, 0, "not an NPY file: it starts with bytes % X, an NPY file with 93 4E 55 4D 50 59 (\"\\x93NUMPY\")", pre[:6])
	}
	major, minor := pre[6], pre[7]
	var hlen int64
	switch major {
	case 1:
		var b [2]byte
		if err := c.header(name, b[:], "NPY header length"); err != nil {
			return nil, err
		}
		hlen = int64(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if err := c.header(name, b[:], "NPY header length"); err != nil {
			return nil, err
		}
		hlen = int64(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, errAt(name, 6, "NPY format version %d.%d is not one of 1.0, 2.0, 3.0", major, minor)
	}
	if hlen > maxNPYHeader {
		return nil, errAt(name, 8, "NPY header length %d is over the %d bytes a reader accepts", hlen, maxNPYHeader)
	}
	hstart := c.n
	hdr, err := c.read(name, hlen, "NPY header")
	if err != nil {
		return nil, err
	}
	h, err := parseNPYHeader(string(hdr))
	if err != nil {
		return nil, errAt(name, hstart+int64(h.errPos), "NPY header %q: %s", strings.TrimSpace(string(hdr)), err)
	}
	a := &npyArray{shape: h.shape, descr: h.descr}
	var ok bool
	if a.et, ok = parseDescr(h.descr); !ok {
		return nil, errAt(name, hstart, "NPY dtype %q is not supported (supported: float16/32/64, int8..int64, uint8..uint64, bool, either byte order)", h.descr)
	}
	_, nbytes, ok := shapeBytes(h.shape, a.et.size)
	if !ok {
		return nil, errAt(name, hstart, "NPY shape %s of %s is too large to address", tensor.FormatShape(h.shape), h.descr)
	}
	if a.raw, err = c.data(name, nbytes); err != nil {
		return nil, err
	}
	if err := c.end(name); err != nil {
		return nil, err
	}
	if h.fortran && len(h.shape) > 1 {
		a.raw = fortranToC(a.raw, h.shape, a.et.size)
	}
	return a, nil
}

// parseDescr interprets a NumPy dtype string such as "<f4", ">i2" or "|b1".
func parseDescr(d string) (elemType, bool) {
	if len(d) < 3 {
		return elemType{}, false
	}
	var e elemType
	switch d[0] {
	case '<', '=':
		e.big = false
	case '>':
		e.big = true
	case '|':
	default:
		return elemType{}, false
	}
	size, err := strconv.Atoi(d[2:])
	if err != nil {
		return elemType{}, false
	}
	e.kind, e.size = d[1], size
	switch {
	case e.kind == 'f' && (size == 2 || size == 4 || size == 8):
	case (e.kind == 'i' || e.kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8):
	case e.kind == 'b' && size == 1:
	case e.kind == '?' && size == 1:
		e.kind = 'b'
	default:
		return elemType{}, false
	}
	return e, true
}

// fortranToC reorders the elements of a column-major array into row-major
// order.
func fortranToC(raw []byte, shape []int, size int) []byte {
	out := make([]byte, len(raw))
	if len(raw) == 0 {
		return out
	}
	// Column-major stride of each axis, in elements.
	strides := make([]int, len(shape))
	s := 1
	for i, d := range shape {
		strides[i] = s
		s *= d
	}
	idx := make([]int, len(shape))
	src := 0
	for dst := 0; dst < len(raw); dst += size {
		copy(out[dst:dst+size], raw[src*size:src*size+size])
		// Advance the row-major odometer, keeping src in step.
		for ax := len(shape) - 1; ax >= 0; ax-- {
			idx[ax]++
			src += strides[ax]
			if idx[ax] < shape[ax] {
				break
			}
			src -= idx[ax] * strides[ax]
			idx[ax] = 0
		}
	}
	return out
}

// WriteNPY writes t to path as a NumPy .npy file (format 1.0, dtype '<f4',
// C order), which numpy.load reads back as a float32 array of t's shape.
func WriteNPY(path string, t *tensor.Tensor) error {
	return writeFile(path, func(w io.Writer) error { return encodeNPY(w, path, t.Shape(), float32Values(t.Data()), "<f4") })
}

// EncodeNPY writes t to w as an NPY array of dtype '<f4'.
func EncodeNPY(w io.Writer, t *tensor.Tensor) error {
	return encodeNPY(w, "EncodeNPY", t.Shape(), float32Values(t.Data()), "<f4")
}

// WriteNPYInts writes values, an array of the given shape in row-major order
// (nil shape: one dimension of len(values)), to path as a NumPy .npy file of
// dtype '<i8' (int64), such as an array of labels.
func WriteNPYInts(path string, values []int, shape []int) error {
	return writeFile(path, func(w io.Writer) error { return encodeNPYInts(w, path, values, shape) })
}

func encodeNPYInts(w io.Writer, name string, values []int, shape []int) error {
	if shape == nil {
		shape = []int{len(values)}
	}
	if n, _, ok := shapeBytes(shape, 8); !ok || n != int64(len(values)) {
		return fmt.Errorf("dataio: %s: shape %s does not hold the %d values given", name, tensor.FormatShape(shape), len(values))
	}
	f := make([]float64, len(values))
	for i, v := range values {
		f[i] = float64(v)
		if int(f[i]) != v {
			return fmt.Errorf("dataio: %s: element %d: value %d is beyond the integers this writer stores exactly (|v| ≤ 2^53)", name, i, v)
		}
	}
	return encodeNPY(w, name, shape, float64Values(f), "<i8")
}

// npyHeader returns the header of an NPY file holding a C-order array of the
// given dtype and shape: magic, version, length and the padded dictionary.
func npyHeader(descr string, shape []int) []byte {
	var sh strings.Builder
	sh.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			sh.WriteString(", ")
		}
		sh.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		sh.WriteByte(',')
	}
	sh.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sh.String())
	// Pad with spaces and a final newline so the data starts at a multiple
	// of 64 bytes, as NumPy does.
	pre := 10
	if len(dict)+1+pre > 65535 {
		pre = 12
	}
	total := (pre + len(dict) + 1 + 63) / 64 * 64
	dict += strings.Repeat(" ", total-pre-len(dict)-1) + "\n"
	b := []byte(npyMagic)
	if pre == 10 {
		b = append(b, 1, 0)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	} else {
		b = append(b, 2, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(dict)))
	}
	return append(b, dict...)
}

// encodeNPY writes an NPY file of the values in the given dtype.
func encodeNPY(w io.Writer, name string, shape []int, vals values, descr string) error {
	et, _ := parseDescr(descr)
	raw, err := encodeValues(name, vals, et)
	if err != nil {
		return err
	}
	if _, err := w.Write(npyHeader(descr, shape)); err != nil {
		return fmt.Errorf("dataio: %s: %w", name, err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("dataio: %s: %w", name, err)
	}
	return nil
}
