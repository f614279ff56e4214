package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawFile assembles a safetensors file from a literal header (used as is,
// without padding) and a data buffer.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// rawTensor is one tensor of a hand-built file: data holds its encoded bytes.
type rawTensor struct {
	name  string
	dtype string
	shape []int
	data  []byte
}

// buildFile hand-writes a header for tensors laid out back to back in the
// given order, followed by their data.
func buildFile(tensors []rawTensor) []byte {
	var h strings.Builder
	var data []byte
	h.WriteByte('{')
	for i, t := range tensors {
		if i > 0 {
			h.WriteByte(',')
		}
		dims := make([]string, len(t.shape))
		for j, d := range t.shape {
			dims[j] = fmt.Sprint(d)
		}
		fmt.Fprintf(&h, `%q:{"dtype":%q,"shape":[%s],"data_offsets":[%d,%d]}`,
			t.name, t.dtype, strings.Join(dims, ","), len(data), len(data)+len(t.data))
		data = append(data, t.data...)
	}
	h.WriteByte('}')
	return rawFile(h.String(), data)
}

func le16(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

func le32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func le64(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func f32s(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// sameBits reports whether a and b hold bit-identical float32s.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// writeTemp writes data to a file named name in a fresh temporary directory
// and returns its path.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustReader(t *testing.T, data []byte) *File {
	t.Helper()
	f, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return f
}

func mustWrite(t *testing.T, entries []Entry, md map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, entries, md); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}
