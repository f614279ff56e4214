package dataio

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/tensor"
)

// refValue is element i (row-major) of the arrays testdata/npy_ref.py writes.
func refValue(kind string, i int) float64 {
	switch kind {
	case "signed":
		return float64(i - 7)
	case "unsigned":
		return float64(i)
	case "bool":
		if i%3 == 0 {
			return 1
		}
		return 0
	}
	return float64(i-7)*0.5 + 0.25
}

func refFloat32s(kind string, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(refValue(kind, i))
	}
	return out
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// npyBytes builds a version 1.0 NPY file by hand from a header dictionary
// and data.
func npyBytes(dict string, data []byte) []byte {
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	return append(append(b, dict...), data...)
}

// Files that NumPy wrote, of every supported dtype, byte order, memory
// order and format version, read by Go.
func TestReadNPYFromNumPy(t *testing.T) {
	python := testenv.RequirePython(t, "numpy")
	dir := t.TempDir()
	if out, err := exec.Command(python, filepath.Join("testdata", "npy_ref.py"), "write", dir).CombinedOutput(); err != nil {
		t.Fatalf("npy_ref.py write: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest []struct {
		File, Kind, Descr string
		Shape             []int
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) < 25 {
		t.Fatalf("manifest lists %d files, want at least 25", len(manifest))
	}
	for _, m := range manifest {
		t.Run(m.File, func(t *testing.T) {
			p := filepath.Join(dir, m.File)
			x, err := ReadNPY(p)
			if err != nil {
				t.Fatal(err)
			}
			checkTensor(t, x, m.Shape, refFloat32s(m.Kind, prod(m.Shape)))
			if m.Kind == "float" {
				if _, _, err := ReadNPYInts(p); prod(m.Shape) > 0 && err == nil {
					t.Fatalf("ReadNPYInts accepted the fractional values of %s", m.File)
				}
				return
			}
			ints, shape, err := ReadNPYInts(p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(shape, m.Shape) {
				t.Fatalf("ReadNPYInts shape %v, want %v", shape, m.Shape)
			}
			for i, v := range ints {
				if float64(v) != refValue(m.Kind, i) {
					t.Fatalf("ReadNPYInts value %d = %d, want %v", i, v, refValue(m.Kind, i))
				}
			}
		})
	}
	t.Run("exact int64", func(t *testing.T) {
		v, shape, err := ReadNPYInts(filepath.Join(dir, "big_ints.npy"))
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{1<<62 + 1, -(1 << 62) - 3, 5}; !slices.Equal(v, want) || !slices.Equal(shape, []int{3}) {
			t.Fatalf("got %v %v, want %v [3]", v, shape, want)
		}
	})
	t.Run("uint64 beyond int", func(t *testing.T) {
		_, _, err := ReadNPYInts(filepath.Join(dir, "too_big.npy"))
		checkErrorContains(t, err, "too_big.npy", "element 1", "<u8", "9223372036854775813 does not fit an int")
	})
	for _, name := range []string{"stored.npz", "compressed.npz"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			arrays, err := ReadNPZ(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(arrays) != 3 {
				t.Fatalf("%d arrays, want x, y, m", len(arrays))
			}
			checkTensor(t, arrays["x"], []int{4, 3}, refFloat32s("float", 12))
			checkTensor(t, arrays["y"], []int{4}, refFloat32s("signed", 4))
			checkTensor(t, arrays["m"], []int{2, 2}, refFloat32s("unsigned", 4))
			y, shape, err := ReadNPZInts(p, "y")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(y, []int{-7, -6, -5, -4}) || !slices.Equal(shape, []int{4}) {
				t.Fatalf("ReadNPZInts y = %v %v, want [-7 -6 -5 -4] [4]", y, shape)
			}
			names, err := NPZNames(p)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{"m", "x", "y"}) {
				t.Fatalf("NPZNames %v, want [m x y]", names)
			}
			_, _, err = ReadNPZInts(p, "labels")
			checkErrorContains(t, err, name, `no array "labels"`, "x", "y", "m")
			_, _, err = ReadNPZInts(p, "x")
			checkErrorContains(t, err, name+": x.npy", "element 0", "-3.25 is not a whole number")
		})
	}
}

// Files that Go wrote, read back by NumPy.
func TestWriteNPYReadByNumPy(t *testing.T) {
	python := testenv.RequirePython(t, "numpy")
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(WriteNPY(filepath.Join(dir, "go_f4.npy"), tensor.New(refFloat32s("float", 24), 2, 3, 4)))
	must(WriteNPY(filepath.Join(dir, "go_scalar.npy"), tensor.Scalar(2.5)))
	must(WriteNPY(filepath.Join(dir, "go_empty.npy"), tensor.Zeros(0, 3)))
	must(WriteNPY(filepath.Join(dir, "go_vector.npy"), tensor.New(refFloat32s("float", 7), 7)))
	must(WriteNPYInts(filepath.Join(dir, "go_ints.npy"), []int{1<<53 - 1, -5, 0, 7, 8, 9}, []int{2, 3}))
	arrays := map[string]*tensor.Tensor{"x": tensor.New(refFloat32s("float", 12), 4, 3)}
	for _, c := range []struct {
		name       string
		compressed bool
	}{{"go.npz", false}, {"go_compressed.npz", true}} {
		w, err := CreateNPZ(filepath.Join(dir, c.name), c.compressed)
		must(err)
		must(w.Add("x", arrays["x"]))
		must(w.AddInts("labels", []int{3, 0, 2, 1}, nil))
		must(w.Close())
	}
	out, err := exec.Command(python, filepath.Join("testdata", "npy_ref.py"), "check", dir).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("numpy rejected Go's files: %v\n%s", err, out)
	}
}

func TestNPYRoundTrip(t *testing.T) {
	dir := t.TempDir()
	x := tensor.New([]float32{1.5, -2, 3e-8, 4e20, 0, -0.125}, 3, 1, 2)
	p := filepath.Join(dir, "x.npy")
	if err := WriteNPY(p, x); err != nil {
		t.Fatal(err)
	}
	y, err := ReadNPY(p)
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, y, []int{3, 1, 2}, x.Data())
	b, _ := os.ReadFile(p)
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 2), }"
	if len(b) != 128+24 || string(b[:8]) != "\x93NUMPY\x01\x00" || !strings.HasPrefix(string(b[10:]), hdr) || b[127] != '\n' {
		t.Fatalf("file of %d bytes starting %q, want 152 bytes, a 128-byte header %q", len(b), b[:min(len(b), 80)], hdr)
	}

	for _, c := range []struct {
		name        string
		write       func(string, map[string]*tensor.Tensor) error
		wantDeflate bool
	}{{"s.npz", WriteNPZ, false}, {"c.npz", WriteNPZCompressed, true}} {
		p := filepath.Join(dir, c.name)
		if err := c.write(p, map[string]*tensor.Tensor{"b": x, "a": tensor.Scalar(7)}); err != nil {
			t.Fatal(err)
		}
		arrays, err := ReadNPZ(p)
		if err != nil {
			t.Fatal(err)
		}
		checkTensor(t, arrays["b"], []int{3, 1, 2}, x.Data())
		checkTensor(t, arrays["a"], []int{}, []float32{7})
		names, _ := NPZNames(p)
		if !slices.Equal(names, []string{"a", "b"}) {
			t.Fatalf("members %v, want [a b] in name order", names)
		}
	}
}

func TestFortranToC(t *testing.T) {
	// A 2x3 array [[1 2 3] [4 5 6]] stored column by column: 1 4 2 5 3 6.
	got := fortranToC([]byte{1, 4, 2, 5, 3, 6}, []int{2, 3}, 1)
	if want := []byte{1, 2, 3, 4, 5, 6}; !bytes.Equal(got, want) {
		t.Fatalf("2x3: %v, want %v", got, want)
	}
	// 2x2x2: element (i,j,k) = 100i+10j+k; column-major offset i+2j+4k.
	raw := make([]byte, 8)
	for i := range 2 {
		for j := range 2 {
			for k := range 2 {
				raw[i+2*j+4*k] = byte(100*i + 10*j + k)
			}
		}
	}
	if want := []byte{0, 1, 10, 11, 100, 101, 110, 111}; !bytes.Equal(fortranToC(raw, []int{2, 2, 2}, 1), want) {
		t.Fatalf("2x2x2: %v, want %v", fortranToC(raw, []int{2, 2, 2}, 1), want)
	}
	// Two-byte elements move as units.
	if got := fortranToC([]byte{1, 0, 3, 0, 2, 0, 4, 0}, []int{2, 2}, 2); !bytes.Equal(got, []byte{1, 0, 2, 0, 3, 0, 4, 0}) {
		t.Fatalf("2x2 int16: %v", got)
	}
}

func TestHalfToFloat32(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{{0x3C00, 1}, {0xC000, -2}, {0x7BFF, 65504}, {0x0001, 1.0 / (1 << 24)}, {0x8000, 0}, {0x3555, 0.333251953125}, {0x0400, 1.0 / (1 << 14)}} {
		if got := halfToFloat32(c.h); got != c.want {
			t.Errorf("half 0x%04X = %v, want %v", c.h, got, c.want)
		}
	}
	if v := halfToFloat32(0x7C00); v <= 3e38 {
		t.Errorf("half 0x7C00 = %v, want +Inf", v)
	}
	if v := halfToFloat32(0x7E00); v == v {
		t.Errorf("half 0x7E00 = %v, want NaN", v)
	}
}

func TestReadNPYBadInput(t *testing.T) {
	f4 := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	cases := []struct {
		name   string
		file   []byte
		offset int64
		parts  []string
	}{
		{"empty", nil, 0, []string{"truncated at byte 0", "want 8 bytes of NPY magic and version"}},
		{"not NPY", []byte("PK\x03\x04 this is a zip"), 0, []string{"not an NPY file", "50 4B 03 04"}},
		{"version 4", []byte("\x93NUMPY\x04\x00\x10\x00"), 6, []string{"version 4.0"}},
		{"short header", npyBytes(f4, nil)[:40], 40, []string{"truncated at byte 40", "bytes of NPY header from byte 10, file has 30"}},
		{"short data", npyBytes(f4, make([]byte, 10)), 79, []string{"truncated at byte 79", "want 24 bytes of data from byte 69, file has 10"}},
		{"trailing data", npyBytes(f4, make([]byte, 30)), 93, []string{"6 unexpected bytes"}},
		{"huge header length", append([]byte("\x93NUMPY\x02\x00"), 0xFF, 0xFF, 0xFF, 0x7F), 8, []string{"header length 2147483647"}},
		{"structured dtype", npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", nil), 10 + 10, []string{"structured dtypes"}},
		{"complex dtype", npyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", nil), 10, []string{`dtype "<c8" is not supported`}},
		{"object dtype", npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", nil), 10, []string{`dtype "|O" is not supported`}},
		{"missing shape", npyBytes("{'descr': '<f4', 'fortran_order': False}", nil), 10 + 40, []string{"missing key 'shape'"}},
		{"unknown key", npyBytes("{'descr': '<f4', 'order': 'C', 'shape': (2,)}", nil), 10 + 25, []string{`unknown key "order"`}},
		{"bad shape", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }", nil), 10 + 54, []string{"want a dimension"}},
		{"int not tuple", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", nil), 10 + 52, []string{"trailing comma"}},
		{"bad bool", npyBytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", nil), 10 + 34, []string{"True or False"}},
		{"huge shape", npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", nil), 10, []string{"too large"}},
		{"hostile shape", npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536), }", make([]byte, 8)), 10 + 67 + 8, []string{"want 34359738368 bytes of data from byte 77, file has 8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeBytes(t, "a.npy", c.file)
			_, err := ReadNPY(p)
			checkFormatError(t, err, c.offset, append(c.parts, p)...)
		})
	}
}

func TestReadNPZBadInput(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadNPZ(writeBytes(t, "x.npz", []byte("not a zip file at all")))
	checkErrorContains(t, err, "x.npz", "not a readable NPZ (zip) archive")
	_, err = ReadNPZ(filepath.Join(dir, "missing.npz"))
	checkErrorContains(t, err, "missing.npz", "no such file")

	// A member whose header promises more than the member holds.
	p := filepath.Join(dir, "lie.npz")
	w, err := CreateNPZ(p, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.add("x", func(out io.Writer, _ string) error {
		_, err := out.Write(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000,), }", make([]byte, 16)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = ReadNPZ(p)
	checkFormatError(t, err, 10+65+16, "lie.npz: x.npy", "want 800000000 bytes of data from byte 75, file has 16")

	// Writers refuse bad names and values.
	w, err = CreateNPZ(filepath.Join(dir, "w.npz"), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add("a", tensor.Scalar(1)); err != nil {
		t.Fatal(err)
	}
	checkErrorContains(t, w.Add("a", tensor.Scalar(1)), `"a" is empty or already used`)
	checkErrorContains(t, w.AddInts("b", []int{1, 2, 3}, []int{2, 2}), "shape (2,2) does not hold the 3 values")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	names, err := NPZNames(filepath.Join(dir, "w.npz"))
	if err != nil || !slices.Equal(names, []string{"a"}) {
		t.Fatalf("after refused adds the archive holds %v (%v), want [a]", names, err)
	}
}

// int64 values convert to the nearest float32 in one rounding:
// 2^60+2^36+1 is just above the midpoint of two float32s, while rounding
// through float64 first lands on the midpoint and then rounds down to even.
func TestNPYInt64RoundsOnce(t *testing.T) {
	v := int64(1<<60 + 1<<36 + 1)
	var data [8]byte
	binary.LittleEndian.PutUint64(data[:], uint64(v))
	x, err := DecodeNPY(bytes.NewReader(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", data[:])), "big")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x.Data()[0], float32(1<<60+1<<37); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}
