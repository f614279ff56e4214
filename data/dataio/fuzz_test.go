package dataio

import (
	"bytes"
	"math"
	"testing"
)

// sameFloat32s reports whether a and b hold the same values, NaNs equal.
func sameFloat32s(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(float64(a[i])) && math.IsNaN(float64(b[i]))) {
			return false
		}
	}
	return true
}

// FuzzDecodeIDX feeds arbitrary bytes to the IDX decoder: it must return a
// tensor or an error, never panic, and a tensor it returns must survive a
// float64 round trip unchanged.
func FuzzDecodeIDX(f *testing.F) {
	f.Add(idxBytes(0x08, []uint32{2, 3}, []byte{0, 1, 2, 3, 4, 5}))
	f.Add(idxBytes(0x0B, []uint32{2}, []byte{1, 2, 3, 4}))
	f.Add(idxBytes(0x0D, []uint32{1}, []byte{0x3F, 0x80, 0, 0}))
	f.Add(idxBytes(0x0E, []uint32{1, 1}, make([]byte, 8)))
	f.Add(idxBytes(0x08, []uint32{60000, 28, 28}, make([]byte, 10)))
	f.Add(gzipBytes(f, idxBytes(0x0C, []uint32{1}, []byte{0, 0, 0, 9})))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := DecodeIDX(bytes.NewReader(b), "fuzz")
		if err != nil {
			if x != nil {
				t.Fatalf("both a tensor and an error %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := EncodeIDX(&buf, x, IDXFloat64); err != nil {
			t.Fatal(err)
		}
		y, err := DecodeIDX(&buf, "again")
		if err != nil {
			t.Fatal(err)
		}
		if !sameFloat32s(x.Data(), y.Data()) || len(x.Shape()) != len(y.Shape()) {
			t.Fatalf("round trip changed %v %v into %v %v", x.Shape(), x.Data(), y.Shape(), y.Data())
		}
		_, et, _, _ := decodeIDX(bytes.NewReader(b), "fuzz")
		if _, err := DecodeIDXLabels(bytes.NewReader(b), "fuzz"); (err == nil) != (x.Dims() == 1 && et.isInteger()) {
			t.Fatalf("labels decode with error %v from a file of shape %v and %s", err, x.Shape(), et)
		}
	})
}

// FuzzDecodeNPY feeds arbitrary bytes to the NPY decoder: it must return a
// tensor or an error, never panic; a tensor it returns must survive a write
// and read through '<f4' unchanged, and ReadNPYInts must agree with it on
// integer files.
func FuzzDecodeNPY(f *testing.F) {
	f.Add(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", []byte{0, 0, 0x80, 0x3F, 0, 0, 0, 0x40}))
	f.Add(npyBytes("{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }", []byte{0, 1, 0, 2, 0, 3, 0, 4}))
	f.Add(npyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", []byte{1}))
	f.Add(npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (1, 1, 1), }", []byte{0, 0x3C}))
	f.Add(npyBytes("{'descr': '<u8', 'fortran_order': False, 'shape': (65536, 65536), }", nil))
	var buf bytes.Buffer
	if err := encodeNPYInts(&buf, "seed", []int{1, -2, 3}, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := DecodeNPY(bytes.NewReader(b), "fuzz")
		if err != nil {
			if x != nil {
				t.Fatalf("both a tensor and an error %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := EncodeNPY(&buf, x); err != nil {
			t.Fatal(err)
		}
		y, err := DecodeNPY(&buf, "again")
		if err != nil {
			t.Fatal(err)
		}
		if !sameFloat32s(x.Data(), y.Data()) || len(x.Shape()) != len(y.Shape()) {
			t.Fatalf("round trip changed %v %v into %v %v", x.Shape(), x.Data(), y.Shape(), y.Data())
		}
		ints, shape, err := DecodeNPYInts(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		if len(shape) != x.Dims() || len(ints) != len(x.Data()) {
			t.Fatalf("ints of shape %v (%d values) from a tensor of shape %v", shape, len(ints), x.Shape())
		}
		for i, v := range ints {
			if float32(v) != x.Data()[i] {
				t.Fatalf("int %d = %d but tensor value %v", i, v, x.Data()[i])
			}
		}
	})
}
