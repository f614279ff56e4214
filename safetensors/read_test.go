package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestReadDTypes(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	inf := float32(math.Inf(1))
	tensors := []rawTensor{
		{"f16", "F16", []int{2, 6}, le16(
			0x3C00, 0xC000, 0x7C00, 0xFC00, 0x0001, 0x03FF,
			0x8000, 0x7BFF, 0x3555, 0x0400, 0x8001, 0x7E00)},
		{"bf16", "BF16", []int{6}, le16(0x3F80, 0x4049, 0xFF80, 0x0001, 0xC2F7, 0x7FC0)},
		{"f64", "F64", []int{4}, le64(
			math.Float64bits(1.5), math.Float64bits(-1e300), math.Float64bits(0.1), math.Float64bits(1e-50))},
		{"f32", "F32", []int{2}, f32s(3.25, -0.0078125)},
		{"i64", "I64", []int{4}, le64(uint64(1)<<40, ^uint64(4) /* -5 */, math.MaxInt64, 1<<53+1)},
		{"i32", "I32", []int{3}, le32(uint32(0x80000000), 16777217, 7)},
		{"i16", "I16", []int{2}, le16(0x8000, 0x7FFF)},
		{"i8", "I8", []int{3}, []byte{0x80, 0x7F, 0xFF}},
		{"u8", "U8", []int{3}, []byte{0, 255, 7}},
		{"bool", "BOOL", []int{2, 2}, []byte{0, 1, 1, 0}},
		{"scalar_f16", "F16", []int{}, le16(0x4200)},
	}
	want := map[string][]float32{
		"f16": {1, -2, inf, -inf, 1.0 / (1 << 24), 1023.0 / (1 << 24),
			negZero, 65504, 0.333251953125, 1.0 / (1 << 14), -1.0 / (1 << 24), math.Float32frombits(0x7FC00000)},
		"bf16":       {1, 3.140625, -inf, math.Float32frombits(0x00010000), -123.5, math.Float32frombits(0x7FC00000)},
		"f64":        {1.5, -inf, float32(0.1), 0},
		"f32":        {3.25, -0.0078125},
		"i64":        {1 << 40, -5, 1 << 63, 1 << 53},
		"i32":        {-(1 << 31), 16777216, 7},
		"i16":        {-32768, 32767},
		"i8":         {-128, 127, -1},
		"u8":         {0, 255, 7},
		"bool":       {0, 1, 1, 0},
		"scalar_f16": {3},
	}
	f := mustReader(t, buildFile(tensors))
	for _, rt := range tensors {
		info, ok := f.Info(rt.name)
		if !ok || info.DType != rt.dtype || !sameShape(info.Shape, rt.shape) || info.Length != int64(len(rt.data)) {
			t.Errorf("Info(%q) = %+v, %v", rt.name, info, ok)
		}
		got, shape, err := f.ReadFloat32(rt.name)
		if err != nil {
			t.Fatalf("ReadFloat32(%q): %v", rt.name, err)
		}
		if !sameShape(shape, rt.shape) {
			t.Errorf("%s: shape %v, want %v", rt.name, shape, rt.shape)
		}
		if !sameBits(got, want[rt.name]) {
			t.Errorf("%s: got %v, want %v", rt.name, got, want[rt.name])
			for i := range got {
				t.Logf("  [%d] got %#08x want %#08x", i, math.Float32bits(got[i]), math.Float32bits(want[rt.name][i]))
			}
		}
	}
	// Negative zero keeps its sign.
	if got, _, _ := f.ReadFloat32("f16"); !math.Signbit(float64(got[6])) {
		t.Error("F16 0x8000 lost its sign")
	}
}

// refF16 decodes binary16 independently of f16ToFloat32, via float64.
func refF16(h uint16) float64 {
	e := int(h>>10) & 0x1f
	m := float64(h & 0x3ff)
	var v float64
	switch e {
	case 0:
		v = math.Ldexp(m, -24)
	case 0x1f:
		if m == 0 {
			v = math.Inf(1)
		} else {
			v = math.NaN()
		}
	default:
		v = math.Ldexp(m+1024, e-25)
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return v
}

func TestF16AllValues(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got := f16ToFloat32(h)
		ref := refF16(h)
		if math.IsNaN(ref) {
			// NaNs keep their sign and payload, shifted into place.
			want := uint32(h&0x8000)<<16 | 0x7f800000 | uint32(h&0x3ff)<<13
			if math.Float32bits(got) != want {
				t.Fatalf("f16 %#04x: got bits %#08x, want %#08x", h, math.Float32bits(got), want)
			}
			continue
		}
		if float64(got) != ref || math.Signbit(float64(got)) != math.Signbit(ref) {
			t.Fatalf("f16 %#04x: got %v, want %v", h, got, ref)
		}
	}
}

func TestReadIntoAndLookupErrors(t *testing.T) {
	f := mustReader(t, buildFile([]rawTensor{{"w", "F32", []int{2, 2}, f32s(1, 2, 3, 4)}}))
	err := f.ReadInto("w", make([]float32, 3))
	if err == nil || !strings.Contains(err.Error(), `tensor "w": destination has 3 elements but shape [2 2] has 4`) {
		t.Errorf("ReadInto with short dst: %v", err)
	}
	if _, _, err := f.ReadFloat32("nope"); err == nil || !strings.Contains(err.Error(), `no tensor named "nope"`) {
		t.Errorf("ReadFloat32 of missing tensor: %v", err)
	}
	if err := f.ReadInto("nope", nil); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("ReadInto of missing tensor: %v", err)
	}
	if _, ok := f.Info("nope"); ok {
		t.Error("Info of missing tensor reported ok")
	}
	// The accessors return copies.
	info, _ := f.Info("w")
	info.Shape[0] = 99
	f.Tensors()[0].Shape[1] = 99
	if again, _ := f.Info("w"); !sameShape(again.Shape, []int{2, 2}) {
		t.Errorf("modifying a returned shape changed the File: %v", again.Shape)
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close of a NewReader File: %v", err)
	}
}

func TestLayoutLeniency(t *testing.T) {
	// Gaps between tensors, tensors listed out of offset order, and empty
	// tensors at any offset are all accepted.
	header := `{"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},` +
		`"e":{"dtype":"F32","shape":[0],"data_offsets":[9,9]},` +
		`"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}` + "\n\t "
	f := mustReader(t, rawFile(header, append([]byte{3, 4, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA}, f32s(9)...)))
	var order []string
	for _, ti := range f.Tensors() {
		order = append(order, ti.Name)
	}
	if !equalStrings(order, []string{"a", "b", "e"}) {
		t.Errorf("Tensors() order %q, want a b e (by offset)", order)
	}
	if got, _, err := f.ReadFloat32("a"); err != nil || !sameBits(got, []float32{3, 4}) {
		t.Errorf("a = %v, %v", got, err)
	}
	if got, _, err := f.ReadFloat32("b"); err != nil || !sameBits(got, []float32{9}) {
		t.Errorf("b = %v, %v", got, err)
	}
	if got, shape, err := f.ReadFloat32("e"); err != nil || len(got) != 0 || !sameShape(shape, []int{0}) {
		t.Errorf("e = %v %v, %v", got, shape, err)
	}
}

// badFile is a malformed file and the substrings its error must contain.
type badFile struct {
	name string
	data []byte
	want []string
}

func f32Entry(name string, shape string, begin, end int) string {
	return fmt.Sprintf(`%q:{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, name, shape, begin, end)
}

func badFiles() []badFile {
	lenOnly := func(n uint64, rest string) []byte {
		return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
	}
	data24 := make([]byte, 24)
	return []badFile{
		{"file too small", []byte{1, 2, 3, 4, 5}, []string{"file is 5 bytes", "too small"}},
		{"header length zero", lenOnly(0, "{}"), []string{"header length 0 is too small"}},
		{"header length one", lenOnly(1, "{}"), []string{"header length 1 is too small"}},
		{"header length past end", lenOnly(1000, `{"a":1}`), []string{"header length 1000 runs past the end of the file", "file size 15 bytes"}},
		{"huge header length", lenOnly(1<<62, "{}"), []string{"header length 4611686018427387904 exceeds the limit of 104857600 bytes"}},
		{"max header length", lenOnly(math.MaxUint64, "{}"), []string{"header length 18446744073709551615 exceeds the limit"}},
		{"bad JSON", rawFile(`{"w":{"dtype":"F32",`, nil), []string{"invalid header JSON"}},
		{"bad JSON syntax", rawFile(`{"w" 1}`, nil), []string{"invalid header JSON"}},
		{"JSON array", rawFile(`[1,2,3]`, nil), []string{"header JSON is not an object", "an array"}},
		{"JSON string", rawFile(`"hello"`, nil), []string{"not an object", `string "hello"`}},
		{"empty JSON", rawFile(`  `, nil), []string{"invalid header JSON"}},
		{"trailing data", rawFile(`{} {}`, nil), []string{`unexpected data after the JSON object: "{}"`}},
		{"invalid UTF-8", rawFile("{\"\xff\":1}", nil), []string{"not valid UTF-8"}},
		{"unknown dtype", rawFile(`{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}`, make([]byte, 2)),
			[]string{`tensor "w": unknown dtype "F8_E4M3"`}},
		{"dtype not a string", rawFile(`{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)),
			[]string{`tensor "w": dtype 4 is not a string`}},
		{"missing dtype", rawFile(`{"w":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), []string{`tensor "w": missing dtype`}},
		{"missing shape", rawFile(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), []string{`tensor "w": missing shape`}},
		{"missing offsets", rawFile(`{"w":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), []string{`tensor "w": missing data_offsets`}},
		{"entry not an object", rawFile(`{"w":[1,2]}`, nil), []string{`tensor "w": header entry [1,2] is not an object`}},
		{"entry null", rawFile(`{"w":null}`, nil), []string{`tensor "w": header entry null is not an object`}},
		{"negative shape", rawFile("{"+f32Entry("neg", "[2,-3]", 0, 24)+"}", data24), []string{`tensor "neg": shape [2 -3] has negative dimension -3`}},
		{"fractional shape", rawFile("{"+f32Entry("frac", "[2.5]", 0, 10)+"}", data24), []string{`tensor "frac": shape [2.5]`, "element 0 (2.5) is not an integer"}},
		{"string shape", rawFile("{"+f32Entry("str", `["2"]`, 0, 8)+"}", data24), []string{`tensor "str": shape ["2"]`, `element 0 ("2") is not an integer`}},
		{"shape not array", rawFile("{"+f32Entry("obj", `{"a":1}`, 0, 8)+"}", data24), []string{`tensor "obj": shape {"a":1}: not an array`}},
		{"shape null", rawFile("{"+f32Entry("nul", `null`, 0, 4)+"}", data24), []string{`tensor "nul": shape null: not an array`}},
		{"shape out of range", rawFile("{"+f32Entry("big", `[99999999999999999999]`, 0, 4)+"}", data24), []string{`tensor "big"`, "(99999999999999999999) is out of range"}},
		{"shape overflow", rawFile("{"+f32Entry("ovf", `[4294967296,4294967296,4]`, 0, 16)+"}", data24),
			[]string{`tensor "ovf": shape [4294967296 4294967296 4] has too many elements`}},
		{"shape byte overflow", rawFile("{"+f32Entry("ovf", `[4611686018427387904]`, 0, 16)+"}", data24),
			[]string{`tensor "ovf": shape [4611686018427387904] has too many elements`}},
		{"three offsets", rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, data24),
			[]string{`tensor "w": data_offsets [0 4 8] must have exactly 2 elements, has 3`}},
		{"offsets not ints", rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}}`, data24),
			[]string{`tensor "w": data_offsets [0,"4"]`, "element 1"}},
		{"begin after end", rawFile("{"+f32Entry("w", "[0]", 8, 4)+"}", data24), []string{`tensor "w": data_offsets [8, 4] have begin > end`}},
		{"negative offset", rawFile("{"+f32Entry("w", "[1]", -4, 0)+"}", data24), []string{`tensor "w": data_offsets [-4, 0] are negative`}},
		{"length mismatch", rawFile("{"+f32Entry("w", "[2,3]", 0, 20)+"}", data24),
			[]string{`tensor "w": data_offsets [0, 20] span 20 bytes but dtype F32 with shape [2 3] needs 24 bytes`}},
		{"truncated data", rawFile("{"+f32Entry("a", "[2]", 0, 8)+","+f32Entry("w", "[2,3]", 8, 32)+"}", make([]byte, 30)),
			[]string{`tensor "w": data_offsets [8, 32]: the tensor's data runs past the end of the file (file size `, "data buffer 30 bytes"}},
		{"overlap", rawFile("{"+f32Entry("a", "[4]", 0, 16)+","+f32Entry("b", "[4]", 8, 24)+"}", data24),
			[]string{`tensor "b": data at file offsets`, `overlaps tensor "a"`}},
		{"identical offsets", rawFile("{"+f32Entry("b", "[2]", 0, 8)+","+f32Entry("a", "[2]", 0, 8)+"}", data24),
			[]string{`tensor "b"`, `overlaps tensor "a"`}},
		{"duplicate name", rawFile("{"+f32Entry("w", "[2]", 0, 8)+","+f32Entry("w", "[2]", 8, 16)+"}", data24),
			[]string{`tensor "w": duplicate tensor name`}},
		{"metadata value not string", rawFile(`{"__metadata__":{"ok":"x","k":1}}`, nil),
			[]string{`__metadata__: value of key "k" is number 1, not a string`}},
		{"metadata value object", rawFile(`{"__metadata__":{"k":{"x":"y"}}}`, nil),
			[]string{`__metadata__: value of key "k" is an object, not a string`}},
		{"metadata value bool", rawFile(`{"__metadata__":{"k":true}}`, nil), []string{`value of key "k" is true, not a string`}},
		{"metadata value null", rawFile(`{"__metadata__":{"k":null}}`, nil), []string{`value of key "k" is null, not a string`}},
		{"long unknown dtype", rawFile(`{"w":{"dtype":"`+strings.Repeat("X", 5000)+`","shape":[1],"data_offsets":[0,1]}}`, []byte{0}),
			[]string{`tensor "w": unknown dtype "` + strings.Repeat("X", 64) + `..."`}},
		{"metadata not object", rawFile(`{"__metadata__":["a"]}`, nil), []string{`__metadata__ is an array, not an object`}},
		{"metadata duplicate key", rawFile(`{"__metadata__":{"k":"a","k":"b"}}`, nil), []string{`__metadata__: duplicate key "k"`}},
		{"duplicate metadata", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil), []string{`duplicate "__metadata__" key`}},
	}
}

func TestValidationErrors(t *testing.T) {
	for _, tc := range badFiles() {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewReader(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err == nil {
				t.Fatalf("NewReader succeeded: %+v", f.Tensors())
			}
			if f != nil {
				t.Error("NewReader returned a File along with an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "safetensors: ") {
				t.Errorf("error %q lacks the safetensors: prefix", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}

			// Open and Load report the same problem, naming the file, and
			// Load returns nothing.
			path := writeTemp(t, "bad.safetensors", tc.data)
			if f, err := Open(path); err == nil || f != nil || !strings.Contains(err.Error(), "safetensors: "+path+": ") {
				t.Errorf("Open: %v, %v", f, err)
			}
			entries, md, err := Load(path)
			if err == nil || entries != nil || md != nil {
				t.Errorf("Load = %v, %v, %v; want nil, nil, error", entries, md, err)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("Load error %q does not name %s", err, path)
			}
		})
	}
}

func TestUnknownDTypeExactMessage(t *testing.T) {
	t.Chdir(t.TempDir())
	data := rawFile(`{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2})
	if err := os.WriteFile("model.safetensors", data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open("model.safetensors")
	const want = `safetensors: model.safetensors: tensor "w": unknown dtype "F8_E4M3"`
	if err == nil || err.Error() != want {
		t.Fatalf("Open error = %v, want %s", err, want)
	}
}

func TestTruncatedDataMessage(t *testing.T) {
	// A valid file cut short: the tensor's data runs past the end.
	data := mustWrite(t, []Entry{{Name: "w", Shape: []int{4}, Data: []float32{1, 2, 3, 4}}}, nil)
	cut := data[:len(data)-3]
	_, err := NewReader(bytes.NewReader(cut), int64(len(cut)))
	want := fmt.Sprintf(`safetensors: tensor "w": data_offsets [0, 16]: the tensor's data runs past the end of the file (file size %d bytes, data buffer 13 bytes)`, len(cut))
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing.safetensors")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of missing file: %v", err)
	}
	dir := t.TempDir()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Open of a directory: %v", err)
	}
	if _, _, err := Load(dir); err == nil {
		t.Error("Load of a directory succeeded")
	}
}

func TestOpenClose(t *testing.T) {
	path := writeTemp(t, "m.safetensors", mustWrite(t, []Entry{{Name: "x", Shape: []int{1}, Data: []float32{7}}}, nil))
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := f.ReadFloat32("x"); err != nil || got[0] != 7 {
		t.Fatalf("ReadFloat32 = %v, %v", got, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := f.ReadFloat32("x"); err == nil {
		t.Error("ReadFloat32 after Close succeeded")
	}
}

// failingReaderAt serves data but fails any read touching offsets >= failAt.
type failingReaderAt struct {
	data   []byte
	failAt int64
}

func (r *failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.failAt {
		return 0, errors.New("injected I/O error")
	}
	return bytes.NewReader(r.data).ReadAt(p, off)
}

func TestReadAllIsAllOrNothing(t *testing.T) {
	data := mustWrite(t, []Entry{
		{Name: "a", Shape: []int{2}, Data: []float32{1, 2}},
		{Name: "b", Shape: []int{2}, Data: []float32{3, 4}},
	}, nil)
	f, err := NewReader(&failingReaderAt{data: data, failAt: int64(len(data)) - 2}, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := f.ReadFloat32("a"); err != nil || !sameBits(got, []float32{1, 2}) {
		t.Fatalf("a = %v, %v", got, err)
	}
	entries, err := f.readAll()
	if err == nil || entries != nil {
		t.Fatalf("readAll = %v, %v; want nil and an error", entries, err)
	}
	if !strings.Contains(err.Error(), `tensor "b": reading data at file offset`) || !strings.Contains(err.Error(), "injected I/O error") {
		t.Errorf("readAll error = %v", err)
	}
}

// eofReaderAt returns io.EOF together with a full read that reaches the end,
// as io.ReaderAt permits.
type eofReaderAt struct{ data []byte }

func (r eofReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := bytes.NewReader(r.data).ReadAt(p, off)
	if err == nil && off+int64(n) == int64(len(r.data)) {
		err = io.EOF
	}
	return n, err
}

func TestReaderAtEOFAtEnd(t *testing.T) {
	data := mustWrite(t, []Entry{{Name: "x", Shape: []int{3}, Data: []float32{1, 2, 3}}}, nil)
	f, err := NewReader(eofReaderAt{data}, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := f.ReadFloat32("x"); err != nil || !sameBits(got, []float32{1, 2, 3}) {
		t.Fatalf("x = %v, %v", got, err)
	}
	// A size larger than the data makes reads fail cleanly, not panic.
	f, err = NewReader(eofReaderAt{data[:len(data)-4]}, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ReadFloat32("x"); err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short ReaderAt: %v, want ErrUnexpectedEOF", err)
	}
}

// countingReaderAt counts how many times each byte is read and records the
// largest single read.
type countingReaderAt struct {
	r       io.ReaderAt
	mu      sync.Mutex
	counts  []uint8
	maxRead int
	reads   int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	c.maxRead = max(c.maxRead, len(p))
	for i := off; i < off+int64(n); i++ {
		if c.counts[i] < 255 {
			c.counts[i]++
		}
	}
	return n, err
}

// checkCounts asserts bytes [begin, end) were each read exactly want times.
func (c *countingReaderAt) checkCounts(t *testing.T, what string, begin, end int64, want uint8) {
	t.Helper()
	for i := begin; i < end; i++ {
		if c.counts[i] != want {
			t.Fatalf("%s: byte %d read %d times, want %d", what, i, c.counts[i], want)
		}
	}
}

func TestReadIntoStreamsEachByteOnce(t *testing.T) {
	const n = 3_000_000
	big := make([]float32, n)
	for i := range big {
		big[i] = float32(i)*0.5 - 1000
	}
	small := []float32{1, 2, 3}
	data := mustWrite(t, []Entry{
		{Name: "a.small", Shape: []int{3}, Data: small},
		{Name: "b.big", Shape: []int{1000, 3000}, Data: big},
	}, map[string]string{"k": "v"})
	size := int64(len(data))
	dataStart := 8 + int64(binary.LittleEndian.Uint64(data))

	cr := &countingReaderAt{r: bytes.NewReader(data), counts: make([]uint8, size)}
	f, err := NewReader(cr, size)
	if err != nil {
		t.Fatal(err)
	}
	// Opening reads the length and header exactly once and no data.
	cr.checkCounts(t, "header after NewReader", 0, dataStart, 1)
	cr.checkCounts(t, "data after NewReader", dataStart, size, 0)

	info, _ := f.Info("b.big")
	if info.Offset != dataStart+12 || info.Length != 4*n {
		t.Fatalf("b.big info %+v", info)
	}
	dst := make([]float32, n)
	readsBefore := cr.reads
	if err := f.ReadInto("b.big", dst); err != nil {
		t.Fatal(err)
	}
	if !sameBits(dst, big) {
		t.Fatal("ReadInto returned wrong values")
	}
	cr.checkCounts(t, "header after ReadInto", 0, dataStart, 1)
	cr.checkCounts(t, "a.small after ReadInto", dataStart, info.Offset, 0)
	cr.checkCounts(t, "b.big after ReadInto", info.Offset, info.Offset+info.Length, 1)
	if cr.maxRead > chunkSize {
		t.Errorf("largest read was %d bytes, want at most %d", cr.maxRead, chunkSize)
	}
	if want := int((info.Length + chunkSize - 1) / chunkSize); cr.reads-readsBefore != want {
		t.Errorf("ReadInto made %d reads, want %d", cr.reads-readsBefore, want)
	}

	// Reading the rest completes a single pass over the whole file.
	if got, _, err := f.ReadFloat32("a.small"); err != nil || !sameBits(got, small) {
		t.Fatalf("a.small = %v, %v", got, err)
	}
	cr.checkCounts(t, "whole file", 0, size, 1)
}
