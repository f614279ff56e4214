package dataio

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/graftml/graft/tensor"
)

// IDXType is the element type code of an IDX file (the third byte of its
// magic number).
type IDXType byte

// The element types of the IDX format.
const (
	IDXUint8   IDXType = 0x08
	IDXInt8    IDXType = 0x09
	IDXInt16   IDXType = 0x0B
	IDXInt32   IDXType = 0x0C
	IDXFloat32 IDXType = 0x0D
	IDXFloat64 IDXType = 0x0E
)

// String returns the type's name, e.g. "uint8".
func (t IDXType) String() string {
	switch t {
	case IDXUint8:
		return "uint8"
	case IDXInt8:
		return "int8"
	case IDXInt16:
		return "int16"
	case IDXInt32:
		return "int32"
	case IDXFloat32:
		return "float32"
	case IDXFloat64:
		return "float64"
	}
	return fmt.Sprintf("IDXType(0x%02X)", byte(t))
}

// elem returns how elements of type t are stored (always big-endian).
func (t IDXType) elem() (elemType, bool) {
	switch t {
	case IDXUint8:
		return elemType{'u', 1, true}, true
	case IDXInt8:
		return elemType{'i', 1, true}, true
	case IDXInt16:
		return elemType{'i', 2, true}, true
	case IDXInt32:
		return elemType{'i', 4, true}, true
	case IDXFloat32:
		return elemType{'f', 4, true}, true
	case IDXFloat64:
		return elemType{'f', 8, true}, true
	}
	return elemType{}, false
}

// ReadIDX reads the IDX file at path (gunzipping it first when it is
// gzip-compressed, whatever its name) into a tensor of its shape; integer
// elements become float32 values (MNIST pixels stay 0..255).
func ReadIDX(path string) (*tensor.Tensor, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeIDX(f, path)
}

// DecodeIDX reads one IDX array from r, as ReadIDX does from a file; name
// identifies r in error messages.
func DecodeIDX(r io.Reader, name string) (*tensor.Tensor, error) {
	shape, et, raw, err := decodeIDX(r, name)
	if err != nil {
		return nil, err
	}
	vals := et.toFloat32(raw)
	if len(shape) == 0 {
		return tensor.Scalar(vals[0]), nil
	}
	return tensor.Wrap(vals, shape...), nil
}

// ReadIDXLabels reads a one-dimensional IDX file of integers (such as
// MNIST's label files; gzipped or not) into a slice.
func ReadIDXLabels(path string) ([]int, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeIDXLabels(f, path)
}

// DecodeIDXLabels reads a one-dimensional IDX array of integers from r, as
// ReadIDXLabels does from a file; name identifies r in error messages.
func DecodeIDXLabels(r io.Reader, name string) ([]int, error) {
	shape, et, raw, err := decodeIDX(r, name)
	if err != nil {
		return nil, err
	}
	if len(shape) != 1 {
		return nil, errAt(name, 3, "labels must be one-dimensional, file holds shape %s", tensor.FormatShape(shape))
	}
	if !et.isInteger() {
		return nil, errAt(name, 2, "labels must be integers, file holds %s", et)
	}
	labels, _, _ := et.toInts(raw)
	return labels, nil
}

// decodeIDX parses the header and reads the data bytes of an IDX stream.
func decodeIDX(r io.Reader, name string) (shape []int, et elemType, raw []byte, err error) {
	c, closeGz, err := maybeGunzip(name, r, streamSize(r))
	if err != nil {
		return nil, et, nil, err
	}
	defer closeGz()
	var magic [4]byte
	if err := c.header(name, magic[:], "IDX header"); err != nil {
		return nil, et, nil, err
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, et, nil, errAt(name, 0, "not an IDX file: it starts with bytes % X, an IDX file with 00 00", magic[:2])
	}
	dtype := IDXType(magic[2])
	et, ok := dtype.elem()
	if !ok {
		return nil, et, nil, errAt(name, 2, "unknown IDX element type 0x%02X (known: 08 uint8, 09 int8, 0B int16, 0C int32, 0D float32, 0E float64)", magic[2])
	}
	ndims := int(magic[3])
	dims := make([]byte, 4*ndims)
	if err := c.header(name, dims, fmt.Sprintf("IDX header (%d dimensions)", ndims)); err != nil {
		return nil, et, nil, err
	}
	shape = make([]int, ndims)
	for i := range shape {
		shape[i] = int(binary.BigEndian.Uint32(dims[4*i:]))
	}
	_, nbytes, ok := shapeBytes(shape, et.size)
	if !ok {
		return nil, et, nil, errAt(name, 4, "IDX shape %s of %s is too large to address", tensor.FormatShape(shape), dtype)
	}
	raw, err = c.data(name, nbytes)
	if err != nil {
		return nil, et, nil, err
	}
	if err := c.end(name); err != nil {
		return nil, et, nil, err
	}
	return shape, et, raw, nil
}

// WriteIDX writes t to path as an IDX file with elements of type dtype,
// gzip-compressed when path ends in ".gz". Integer types need whole numbers
// within their range; anything else is an error naming the element.
func WriteIDX(path string, t *tensor.Tensor, dtype IDXType) error {
	return writeFile(path, func(w io.Writer) error {
		return encodeMaybeGzip(path, w, func(w io.Writer) error { return encodeIDX(w, path, t.Shape(), float32Values(t.Data()), dtype) })
	})
}

// EncodeIDX writes t to w as an IDX array with elements of type dtype.
func EncodeIDX(w io.Writer, t *tensor.Tensor, dtype IDXType) error {
	return encodeIDX(w, "EncodeIDX", t.Shape(), float32Values(t.Data()), dtype)
}

// WriteIDXLabels writes labels to path as a one-dimensional IDX file:
// uint8 when every label is in 0..255 (as MNIST's label files are), int32
// otherwise. It is gzip-compressed when path ends in ".gz".
func WriteIDXLabels(path string, labels []int) error {
	dtype := IDXUint8
	vals := make([]float64, len(labels))
	for i, l := range labels {
		if l < 0 || l > 255 {
			dtype = IDXInt32
		}
		vals[i] = float64(l)
	}
	return writeFile(path, func(w io.Writer) error {
		return encodeMaybeGzip(path, w, func(w io.Writer) error {
			return encodeIDX(w, path, []int{len(labels)}, float64Values(vals), dtype)
		})
	})
}

// encodeMaybeGzip runs encode on w, through a gzip writer when path ends in
// ".gz".
func encodeMaybeGzip(path string, w io.Writer, encode func(io.Writer) error) error {
	if !strings.HasSuffix(strings.ToLower(path), ".gz") {
		return encode(w)
	}
	zw := gzip.NewWriter(w)
	if err := encode(zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("dataio: %s: %w", path, err)
	}
	return nil
}

// values is a sequence of numbers to encode: float32 tensor data or exact
// integers held as float64.
type values interface {
	Len() int
	At(i int) float64
}

type float32Values []float32

func (v float32Values) Len() int         { return len(v) }
func (v float32Values) At(i int) float64 { return float64(v[i]) }

type float64Values []float64

func (v float64Values) Len() int         { return len(v) }
func (v float64Values) At(i int) float64 { return v[i] }

// encodeValues converts vals to the bytes of element type et; name and the
// element's index identify a value that does not fit.
func encodeValues(name string, vals values, et elemType) ([]byte, error) {
	raw := make([]byte, vals.Len()*et.size)
	for i := range vals.Len() {
		if msg := et.put(raw, i, vals.At(i)); msg != "" {
			return nil, fmt.Errorf("dataio: %s: element %d: %s", name, i, msg)
		}
	}
	return raw, nil
}

// encodeIDX writes the IDX header and data.
func encodeIDX(w io.Writer, name string, shape []int, vals values, dtype IDXType) error {
	et, ok := dtype.elem()
	if !ok {
		return fmt.Errorf("dataio: %s: unknown IDX element type 0x%02X", name, byte(dtype))
	}
	if len(shape) > 255 {
		return fmt.Errorf("dataio: %s: IDX holds at most 255 dimensions, tensor has %d", name, len(shape))
	}
	hdr := []byte{0, 0, byte(dtype), byte(len(shape))}
	for _, d := range shape {
		if d > math.MaxUint32 {
			return fmt.Errorf("dataio: %s: dimension %d does not fit IDX's 32-bit sizes", name, d)
		}
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	raw, err := encodeValues(name, vals, et)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("dataio: %s: %w", name, err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("dataio: %s: %w", name, err)
	}
	return nil
}
