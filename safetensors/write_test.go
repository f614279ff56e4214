package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func roundTripEntries() []Entry {
	return []Entry{
		{Name: "layer.1.weight", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, float32(math.Inf(-1)), 1e-40}},
		{Name: "layer.0.bias", Shape: []int{3}, Data: []float32{0.25, float32(math.Copysign(0, -1)), math.MaxFloat32}},
		{Name: "scalar", Shape: []int{}, Data: []float32{42.5}},
		{Name: "empty", Shape: []int{0, 3}, Data: nil},
		{Name: "nan", Shape: []int{1, 1, 2}, Data: []float32{math.Float32frombits(0x7fc00001), math.Float32frombits(0xffbfffff)}},
	}
}

func TestRoundTrip(t *testing.T) {
	entries := roundTripEntries()
	md := map[string]string{"format": "pt", "note": `quote " backslash \ newline
tab	ünïcödé`}
	data := mustWrite(t, entries, md)
	f := mustReader(t, data)

	wantNames := []string{"empty", "layer.0.bias", "layer.1.weight", "nan", "scalar"}
	if got := f.Names(); !equalStrings(got, wantNames) {
		t.Fatalf("Names() = %q, want %q", got, wantNames)
	}
	if got := f.Metadata(); len(got) != 2 || got["format"] != "pt" || got["note"] != md["note"] {
		t.Fatalf("Metadata() = %q, want %q", got, md)
	}

	// Data is laid out in name order, so offsets follow name order too.
	hdrEnd := int64(8 + binary.LittleEndian.Uint64(data))
	wantLayout := []struct {
		name        string
		off, length int64
	}{
		{"empty", 0, 0}, {"layer.0.bias", 0, 12}, {"layer.1.weight", 12, 24}, {"nan", 36, 8}, {"scalar", 44, 4},
	}
	infos := f.Tensors()
	if len(infos) != len(wantLayout) {
		t.Fatalf("Tensors() has %d entries, want %d", len(infos), len(wantLayout))
	}
	for i, w := range wantLayout {
		got := infos[i]
		if got.Name != w.name || got.DType != "F32" || got.Offset != hdrEnd+w.off || got.Length != w.length {
			t.Errorf("Tensors()[%d] = %+v, want name %q F32 offset %d length %d", i, got, w.name, hdrEnd+w.off, w.length)
		}
	}
	if hdrEnd+48 != int64(len(data)) {
		t.Errorf("file is %d bytes, want %d", len(data), hdrEnd+48)
	}

	for _, e := range entries {
		info, ok := f.Info(e.Name)
		if !ok || !sameShape(info.Shape, e.Shape) {
			t.Errorf("Info(%q) = %+v, %v", e.Name, info, ok)
		}
		got, shape, err := f.ReadFloat32(e.Name)
		if err != nil {
			t.Fatalf("ReadFloat32(%q): %v", e.Name, err)
		}
		if !sameShape(shape, e.Shape) || !sameBits(got, e.Data) {
			t.Errorf("ReadFloat32(%q) = %v %v, want %v %v", e.Name, got, shape, e.Data, e.Shape)
		}
		dst := make([]float32, len(e.Data))
		if err := f.ReadInto(e.Name, dst); err != nil || !sameBits(dst, e.Data) {
			t.Errorf("ReadInto(%q) = %v, %v; want %v", e.Name, dst, err, e.Data)
		}
	}
	if scalar, _ := f.Info("scalar"); scalar.Shape == nil || len(scalar.Shape) != 0 {
		t.Errorf("scalar shape = %#v, want []int{}", scalar.Shape)
	}

	// Save and Load give the same tensors, sorted by name.
	path := filepath.Join(t.TempDir(), "rt.safetensors")
	if err := Save(path, entries, md); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("Save wrote different bytes than Write (err %v)", err)
	}
	loaded, lmd, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lmd) != 2 || lmd["note"] != md["note"] {
		t.Errorf("Load metadata = %q", lmd)
	}
	if len(loaded) != len(wantNames) {
		t.Fatalf("Load returned %d entries, want %d", len(loaded), len(wantNames))
	}
	byName := map[string]Entry{}
	for _, e := range entries {
		byName[e.Name] = e
	}
	for i, e := range loaded {
		want := byName[wantNames[i]]
		if e.Name != want.Name || !sameShape(e.Shape, want.Shape) || !sameBits(e.Data, want.Data) {
			t.Errorf("Load()[%d] = %+v, want %+v", i, e, want)
		}
	}
}

func equalStrings(a, b []string) bool {
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

func TestRoundTripNoMetadataNoTensors(t *testing.T) {
	data := mustWrite(t, nil, map[string]string{})
	if want := rawFile("{}      ", nil); !bytes.Equal(data, want) {
		t.Fatalf("empty file = %q, want %q", data, want)
	}
	f := mustReader(t, data)
	if f.Metadata() != nil || len(f.Tensors()) != 0 || len(f.Names()) != 0 {
		t.Fatalf("empty file: metadata %v tensors %v", f.Metadata(), f.Tensors())
	}
}

// TestWriteExactBytes pins the byte layout Write produces.
func TestWriteExactBytes(t *testing.T) {
	data := mustWrite(t, []Entry{
		{Name: "x", Shape: []int{2}, Data: []float32{1, -2}},
		{Name: "a", Shape: []int{}, Data: []float32{0.5}},
	}, map[string]string{"k": "v"})
	header := `{"__metadata__":{"k":"v"},` +
		`"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},` +
		`"x":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`
	for (8+len(header))%8 != 0 {
		header += " "
	}
	want := rawFile(header, f32s(0.5, 1, -2))
	if !bytes.Equal(data, want) {
		t.Fatalf("Write produced\n%q\nwant\n%q", data, want)
	}
}

func TestWriteHeaderAlignment(t *testing.T) {
	for n := 1; n <= 16; n++ {
		name := strings.Repeat("n", n)
		data := mustWrite(t, []Entry{{Name: name, Shape: []int{1}, Data: []float32{float32(n)}}}, nil)
		hlen := binary.LittleEndian.Uint64(data)
		if (8+hlen)%8 != 0 {
			t.Errorf("name length %d: data starts at %d, not 8-byte aligned", n, 8+hlen)
		}
		hdr := data[8 : 8+hlen]
		trimmed := bytes.TrimRight(hdr, " ")
		if len(hdr)-len(trimmed) >= 8 || trimmed[len(trimmed)-1] != '}' {
			t.Errorf("name length %d: header %q is not JSON padded with fewer than 8 spaces", n, hdr)
		}
		var v map[string]any
		if err := json.Unmarshal(hdr, &v); err != nil {
			t.Errorf("name length %d: header is not valid JSON: %v", n, err)
		}
		if got := math.Float32frombits(binary.LittleEndian.Uint32(data[8+hlen:])); got != float32(n) {
			t.Errorf("name length %d: data = %v", n, got)
		}
	}
}

func TestWriteEscapedNames(t *testing.T) {
	names := []string{`q"uote`, `back\slash`, "new\nline", "ctl\x01\x1f", "<html>&", "日本語", "\u2028"}
	var entries []Entry
	for i, n := range names {
		entries = append(entries, Entry{Name: n, Shape: []int{1}, Data: []float32{float32(i)}})
	}
	md := map[string]string{"\x00key": "val\x7f\"", "": ""}
	f := mustReader(t, mustWrite(t, entries, md))
	for i, n := range names {
		got, _, err := f.ReadFloat32(n)
		if err != nil || len(got) != 1 || got[0] != float32(i) {
			t.Errorf("ReadFloat32(%q) = %v, %v", n, got, err)
		}
	}
	if got := f.Metadata(); len(got) != 2 || got["\x00key"] != "val\x7f\"" || got[""] != "" {
		t.Errorf("Metadata() = %q", got)
	}
}

func TestWriteValidation(t *testing.T) {
	ok := Entry{Name: "ok", Shape: []int{1}, Data: []float32{1}}
	tests := []struct {
		name    string
		entries []Entry
		md      map[string]string
		want    []string
	}{
		{"length mismatch", []Entry{ok, {Name: "w", Shape: []int{2, 3}, Data: make([]float32, 5)}}, nil,
			[]string{`tensor "w"`, "[2 3]", "needs 6 elements but Data has 5"}},
		{"scalar without data", []Entry{{Name: "s", Shape: nil, Data: nil}}, nil,
			[]string{`tensor "s"`, "needs 1 elements but Data has 0"}},
		{"duplicate", []Entry{ok, {Name: "d", Shape: []int{1}, Data: []float32{1}}, {Name: "d", Shape: []int{1}, Data: []float32{2}}}, nil,
			[]string{`tensor "d"`, "duplicate tensor name"}},
		{"empty name", []Entry{ok, {Shape: []int{1}, Data: []float32{1}}}, nil,
			[]string{"entry 1 has an empty name"}},
		{"reserved name", []Entry{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}}, nil,
			[]string{`"__metadata__" is reserved`}},
		{"bad utf8 name", []Entry{{Name: "a\xffb", Shape: []int{1}, Data: []float32{1}}}, nil,
			[]string{`"a\xffb" is not valid UTF-8`}},
		{"negative dim", []Entry{{Name: "neg", Shape: []int{2, -1}, Data: nil}}, nil,
			[]string{`tensor "neg"`, "negative dimension -1"}},
		{"overflow", []Entry{{Name: "huge", Shape: []int{1 << 30, 1 << 30, 1 << 30}, Data: nil}}, nil,
			[]string{`tensor "huge"`, "too many elements"}},
		{"bad utf8 metadata", []Entry{ok}, map[string]string{"k": "\xff"}, []string{"metadata value", "not valid UTF-8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.entries, tc.md)
			if err == nil {
				t.Fatal("Write succeeded, want error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing validation", buf.Len())
			}
		})
	}
}

// chunkWriter records the size of every Write call.
type chunkWriter struct {
	bytes.Buffer
	sizes []int
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

func TestWriteStreamsInChunks(t *testing.T) {
	big := make([]float32, 3_000_000)
	for i := range big {
		big[i] = float32(i)
	}
	small := []float32{-1, -2, -3}
	var w chunkWriter
	if err := Write(&w, []Entry{{Name: "big", Shape: []int{1000, 3000}, Data: big}, {Name: "small", Shape: []int{3}, Data: small}}, nil); err != nil {
		t.Fatal(err)
	}
	// Length, header, then 12,000,012 data bytes in 1 MiB chunks.
	if len(w.sizes) < 3 || w.sizes[0] != 8 {
		t.Fatalf("write sizes %v", w.sizes)
	}
	dataBytes := 0
	for i, n := range w.sizes[2:] {
		if n > chunkSize {
			t.Errorf("data write %d is %d bytes, more than %d", i, n, chunkSize)
		}
		dataBytes += n
	}
	if dataBytes != 4*(len(big)+len(small)) {
		t.Errorf("wrote %d data bytes, want %d", dataBytes, 4*(len(big)+len(small)))
	}
	if want := (dataBytes + chunkSize - 1) / chunkSize; len(w.sizes)-2 != want {
		t.Errorf("%d data writes, want %d", len(w.sizes)-2, want)
	}
	f := mustReader(t, w.Bytes())
	got, _, err := f.ReadFloat32("big")
	if err != nil || !sameBits(got, big) {
		t.Fatalf("big tensor did not round-trip (err %v)", err)
	}
	got, _, err = f.ReadFloat32("small")
	if err != nil || !sameBits(got, small) {
		t.Fatalf("small = %v, %v", got, err)
	}
}

// failWriter fails once more than limit bytes have been written.
type failWriter struct{ n, limit int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		return 0, errors.New("disk full")
	}
	w.n += len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	err := Write(&failWriter{limit: 100}, []Entry{{Name: "x", Shape: []int{100}, Data: make([]float32, 100)}}, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write error = %v, want disk full", err)
	}
}

func TestSaveAtomicReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := Save(path, []Entry{{Name: "a", Shape: []int{1}, Data: []float32{1}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, []Entry{{Name: "b", Shape: []int{2}, Data: []float32{2, 3}}}, map[string]string{"v": "2"}); err != nil {
		t.Fatal(err)
	}
	entries, md, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name != "b" || !sameBits(entries[0].Data, []float32{2, 3}) || md["v"] != "2" {
		t.Fatalf("after replace: %+v %v", entries, md)
	}
	if st, err := os.Stat(path); err != nil {
		t.Error(err)
	} else if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("replaced file mode = %v, want 0600 kept", st.Mode().Perm())
	}

	// An invalid save leaves the existing file untouched and no temp files.
	before, _ := os.ReadFile(path)
	if err := Save(path, []Entry{{Name: "c", Shape: []int{2}, Data: []float32{1}}}, nil); err == nil ||
		!strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `tensor "c"`) {
		t.Fatalf("invalid Save error = %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("invalid Save modified the existing file")
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0].Name() != "model.safetensors" {
		var got []string
		for _, n := range names {
			got = append(got, n.Name())
		}
		t.Errorf("directory holds %q, want only model.safetensors", got)
	}

	if err := Save(filepath.Join(dir, "missing", "x.safetensors"), nil, nil); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
}

func TestSaveNewFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits")
	}
	path := filepath.Join(t.TempDir(), "new.safetensors")
	if err := Save(path, nil, nil); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode = %v, want 0644", st.Mode().Perm())
	}
}
