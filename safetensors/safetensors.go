// Package safetensors reads and writes the safetensors file format that
// Hugging Face uses for model weights: an 8-byte little-endian header length
// N, N bytes of UTF-8 JSON describing each tensor's dtype, shape and byte
// range, then a buffer of little-endian, row-major tensor data. Files are
// validated in full when opened, so a corrupt or hostile file yields a
// descriptive error instead of a panic or an oversized allocation; tensor
// data is then streamed from an io.ReaderAt in bounded chunks and converted
// to float32 without ever loading the whole file into memory. Writing
// produces F32 tensors, streamed in chunks, laid out in name order after a
// header padded with spaces to 8-byte alignment.
package safetensors

import (
	"fmt"
	"math"
	"strings"
)

// MaxHeaderLen is the largest JSON header, in bytes, that Open and NewReader
// accept and that Write will produce; it bounds the memory a hostile file can
// make a reader allocate before validation.
const MaxHeaderLen = 100 << 20

// chunkSize is the most bytes of tensor data read or written per I/O call.
// It is a multiple of every dtype's element size.
const chunkSize = 1 << 20

// metadataKey is the reserved header key holding the string-to-string
// metadata map.
const metadataKey = "__metadata__"

// Entry is a float32 tensor by name: Data holds the elements in row-major
// order and has exactly product(Shape) elements (1 for a scalar, Shape nil
// or empty).
type Entry struct {
	Name  string
	Shape []int
	Data  []float32
}

// TensorInfo describes one tensor stored in a file as its header declares
// it. Offset is the absolute byte offset of the tensor's first data byte from
// the start of the file (not from the start of the data buffer), and Length
// is the size of its data in bytes.
type TensorInfo struct {
	Name   string
	DType  string
	Shape  []int
	Offset int64
	Length int64
}

// dtypeSizes maps each dtype this package understands to its element size in
// bytes. Any other dtype (for example F8_E4M3) is rejected as unknown.
var dtypeSizes = map[string]int64{
	"F64":  8,
	"F32":  4,
	"F16":  2,
	"BF16": 2,
	"I64":  8,
	"I32":  4,
	"I16":  2,
	"I8":   1,
	"U8":   1,
	"BOOL": 1,
}

// numElements returns the product of shape, or ok == false if a dimension is
// negative or the product overflows int64.
func numElements(shape []int64) (n int64, ok bool) {
	n = 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			n = 0
		}
	}
	if n == 0 {
		return 0, true
	}
	for _, d := range shape {
		if n > math.MaxInt64/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// errorf returns an error whose text starts with "safetensors: ", then
// "<file>: " when file is non-empty, then the formatted message.
func errorf(file, format string, args ...any) error {
	prefix := "safetensors: "
	if file != "" {
		prefix += strings.ReplaceAll(file, "%", "%%") + ": "
	}
	return fmt.Errorf(prefix+format, args...)
}

// tensorErrorf is errorf with "tensor <name>: " inserted before the message.
func tensorErrorf(file, tensor, format string, args ...any) error {
	return errorf(file, "tensor %q: "+format, append([]any{tensor}, args...)...)
}
