package dataio

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/graftml/graft/tensor"
)

// ReadNPZ reads every array of the NumPy .npz archive at path (as written by
// numpy.savez, stored, or numpy.savez_compressed, deflated) into float32
// tensors keyed by array name (the member name without ".npy"), with the
// dtypes and orders ReadNPY accepts.
func ReadNPZ(path string) (map[string]*tensor.Tensor, error) {
	zr, err := openNPZ(path)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out := make(map[string]*tensor.Tensor, len(zr.File))
	for _, f := range zr.File {
		key := npzKey(f.Name)
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("dataio: %s: two members hold array %q", path, key)
		}
		a, err := readNPZMember(path, f)
		if err != nil {
			return nil, err
		}
		out[key] = a.tensor()
	}
	return out, nil
}

// ReadNPZInts reads the integer array called name (e.g. "labels" for the
// member labels.npy) from the .npz archive at path, with its shape, as
// ReadNPYInts does.
func ReadNPZInts(path, name string) (values []int, shape []int, err error) {
	zr, err := openNPZ(path)
	if err != nil {
		return nil, nil, err
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		if npzKey(f.Name) != name {
			names = append(names, npzKey(f.Name))
			continue
		}
		a, err := readNPZMember(path, f)
		if err != nil {
			return nil, nil, err
		}
		return a.ints(path + ": " + f.Name)
	}
	return nil, nil, fmt.Errorf("dataio: %s: no array %q (arrays: %s)", path, name, strings.Join(names, ", "))
}

// NPZNames returns the names of the arrays in the .npz archive at path, in
// archive order, without reading them.
func NPZNames(path string) ([]string, error) {
	zr, err := openNPZ(path)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	names := make([]string, len(zr.File))
	for i, f := range zr.File {
		names[i] = npzKey(f.Name)
	}
	return names, nil
}

func openNPZ(path string) (*zip.ReadCloser, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		if _, serr := os.Stat(path); serr != nil {
			return nil, fmt.Errorf("dataio: %w", serr)
		}
		return nil, fmt.Errorf("dataio: %s: not a readable NPZ (zip) archive: %w", path, err)
	}
	return zr, nil
}

// npzKey is the array name of a member: its name without ".npy".
func npzKey(member string) string { return strings.TrimSuffix(member, ".npy") }

// readNPZMember decodes one member. The member's declared size bounds what
// its header may promise, so a hostile header cannot force a large
// allocation; archive/zip checks the declared size against the data.
func readNPZMember(path string, f *zip.File) (*npyArray, error) {
	name := path + ": " + f.Name
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("dataio: %s: %w", name, err)
	}
	defer rc.Close()
	limit := int64(-1)
	if f.UncompressedSize64 <= 1<<62 {
		limit = int64(f.UncompressedSize64)
	}
	return decodeNPY(newCounter(rc, limit), name)
}

// NPZWriter writes a NumPy .npz archive one array at a time; numpy.load
// reads the result.
type NPZWriter struct {
	path       string
	f          *os.File
	zw         *zip.Writer
	compressed bool
	names      map[string]bool
	err        error
}

// CreateNPZ creates the .npz archive at path; compressed chooses deflated
// members (as numpy.savez_compressed writes) over stored ones (numpy.savez).
// Close finishes the file.
func CreateNPZ(path string, compressed bool) (*NPZWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("dataio: %w", err)
	}
	return &NPZWriter{path: path, f: f, zw: zip.NewWriter(f), compressed: compressed, names: map[string]bool{}}, nil
}

// Add writes t as the float32 array called name (member name + ".npy").
func (w *NPZWriter) Add(name string, t *tensor.Tensor) error {
	return w.add(name, func(out io.Writer, member string) error {
		return encodeNPY(out, member, t.Shape(), float32Values(t.Data()), "<f4")
	})
}

// AddInts writes values, of the given shape in row-major order (nil: one
// dimension), as the int64 array called name.
func (w *NPZWriter) AddInts(name string, values []int, shape []int) error {
	return w.add(name, func(out io.Writer, member string) error {
		return encodeNPYInts(out, member, values, shape)
	})
}

func (w *NPZWriter) add(name string, encode func(io.Writer, string) error) error {
	if w.err != nil {
		return w.err
	}
	if name == "" || w.names[name] {
		return fmt.Errorf("dataio: %s: array name %q is empty or already used", w.path, name)
	}
	w.names[name] = true
	method := zip.Store
	if w.compressed {
		method = zip.Deflate
	}
	member := name + ".npy"
	// Encode first so that a value error leaves no half-written member.
	var buf bytes.Buffer
	if err := encode(&buf, w.path+": "+member); err != nil {
		return err
	}
	out, err := w.zw.CreateHeader(&zip.FileHeader{Name: member, Method: method})
	if err == nil {
		_, err = out.Write(buf.Bytes())
	}
	if err != nil {
		w.err = fmt.Errorf("dataio: %s: %w", w.path, err)
	}
	return w.err
}

// Close finishes the archive and closes the file.
func (w *NPZWriter) Close() error {
	err := w.err
	if cerr := w.zw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("dataio: %s: %w", w.path, cerr)
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("dataio: %w", cerr)
	}
	return err
}

// WriteNPZ writes arrays to path as an uncompressed .npz archive (like
// numpy.savez), one float32 member per entry in name order.
func WriteNPZ(path string, arrays map[string]*tensor.Tensor) error {
	return writeNPZ(path, arrays, false)
}

// WriteNPZCompressed writes arrays to path as a deflate-compressed .npz
// archive (like numpy.savez_compressed).
func WriteNPZCompressed(path string, arrays map[string]*tensor.Tensor) error {
	return writeNPZ(path, arrays, true)
}

func writeNPZ(path string, arrays map[string]*tensor.Tensor, compressed bool) error {
	w, err := CreateNPZ(path, compressed)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(arrays))
	for k := range arrays {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := w.Add(k, arrays[k]); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}
