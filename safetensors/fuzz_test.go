package safetensors

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzOpen opens arbitrary bytes and reads every tensor. Whatever the input,
// NewReader must not panic; when it accepts a file, the tensors it reports
// must lie inside the file without overlapping, and reading each must
// succeed with product(shape) elements.
func FuzzOpen(f *testing.F) {
	valid := buildFile([]rawTensor{
		{"f32", "F32", []int{2, 2}, f32s(1, 2, 3, 4)},
		{"f16", "F16", []int{3}, le16(0x3C00, 0x7C00, 0x0001)},
		{"bf16", "BF16", []int{2}, le16(0x3F80, 0x4049)},
		{"f64", "F64", []int{1}, le64(1)},
		{"i64", "I64", []int{1}, le64(5)},
		{"i32", "I32", []int{1}, le32(5)},
		{"i16", "I16", []int{1}, le16(5)},
		{"i8", "I8", []int{1}, []byte{5}},
		{"u8", "U8", []int{2}, []byte{1, 2}},
		{"bool", "BOOL", []int{2}, []byte{0, 1}},
		{"empty", "F32", []int{0, 3}, nil},
		{"scalar", "F32", []int{}, f32s(9)},
	})
	written := mustWriteF(f, []Entry{
		{Name: "w", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "b", Shape: []int{3}, Data: []float32{7, 8, 9}},
	}, map[string]string{"format": "pt"})

	f.Add(valid)
	f.Add(written)
	f.Add(valid[:len(valid)-1]) // truncated data
	f.Add(written[:20])         // truncated header
	f.Add(bytes.Replace(valid, []byte(`"F32"`), []byte(`"U16"`), 1))
	f.Add(bytes.Replace(valid, []byte(`[2,2]`), []byte(`[2,9]`), 1))
	f.Add(bytes.Replace(written, []byte(`"data_offsets":[12,36]`), []byte(`"data_offsets":[4,28] `), 1))
	f.Add(bytes.Replace(written, []byte(`"pt"`), []byte(`123 `), 1))
	f.Add(rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{1, 2}))
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	f.Add(append(huge, "{}"...))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		file, err := NewReader(bytes.NewReader(data), size)
		if err != nil {
			if file != nil {
				t.Fatal("NewReader returned a File along with an error")
			}
			return
		}
		tensors := file.Tensors()
		if len(file.Names()) != len(tensors) {
			t.Fatalf("%d names but %d tensors", len(file.Names()), len(tensors))
		}
		var prevEnd int64 = 8
		for _, ti := range tensors {
			if ti.Offset < 8 || ti.Length < 0 || ti.Offset+ti.Length > size {
				t.Fatalf("tensor %q at [%d, +%d) lies outside the %d-byte file", ti.Name, ti.Offset, ti.Length, size)
			}
			if ti.Length > 0 {
				if ti.Offset < prevEnd {
					t.Fatalf("tensor %q at %d overlaps data ending at %d", ti.Name, ti.Offset, prevEnd)
				}
				prevEnd = ti.Offset + ti.Length
			}
			got, shape, err := file.ReadFloat32(ti.Name)
			if err != nil {
				t.Fatalf("ReadFloat32(%q) on an accepted in-memory file: %v", ti.Name, err)
			}
			n := 1
			for _, d := range shape {
				n *= d
			}
			if len(got) != n {
				t.Fatalf("tensor %q: %d elements for shape %v", ti.Name, len(got), shape)
			}
			if err := file.ReadInto(ti.Name, got); err != nil {
				t.Fatalf("ReadInto(%q): %v", ti.Name, err)
			}
		}
		file.Metadata()
	})
}

func mustWriteF(f *testing.F, entries []Entry, md map[string]string) []byte {
	var buf bytes.Buffer
	if err := Write(&buf, entries, md); err != nil {
		f.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}
