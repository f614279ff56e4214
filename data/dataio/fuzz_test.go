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
