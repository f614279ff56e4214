// Package docs is the documentation index behind the kernel's completion and
// inspection: for graft's exported packages and the standard library packages
// that cells can import, each package's synopsis and doc, and for each
// exported member (functions, types, variables, constants, and the methods
// and fields of types) its kind, its signature in Go syntax and its doc
// comment. The index is generated from Go sources (go generate; see
// internal/docgen) and embedded, so a built kernel needs no Go installation.
// Packages are decompressed on first use, one at a time.
package docs

//go:generate go run ./gen

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Kinds of members.
const (
	KindFunc   = "func"
	KindType   = "type"
	KindVar    = "var"
	KindConst  = "const"
	KindMethod = "method"
	KindField  = "field"
)

// Member is one documented exported name of a package.
type Member struct {
	// Name is the member's own name: "Split", or "Reshape" for a method.
	Name string
	// Recv is the type a method or field belongs to ("Tensor"), "" for
	// package-level members.
	Recv string `json:",omitempty"`
	// Kind is one of the Kind constants.
	Kind string
	// Signature is the declaration in Go syntax, for example
	// "func Split(s, sep string) []string",
	// "func (t *Tensor) Reshape(shape ...int) *Tensor", "Data map[string]any"
	// for a field, "func (Reader) Read(p []byte) (n int, err error)" for an
	// interface method, "const SeekStart = 0"; a type shows its declaration
	// as go doc prints it (exported fields and methods with their comments).
	// A method promoted from an embedded type keeps its declaring receiver.
	Signature string
	// Doc is the doc comment, as go/doc extracts it (comment markers removed).
	Doc string `json:",omitempty"`
}

// QualifiedName returns "Recv.Name" for methods and fields, Name otherwise.
func (m *Member) QualifiedName() string {
	if m.Recv == "" {
		return m.Name
	}
	return m.Recv + "." + m.Name
}

// Package is the documentation of one package.
type Package struct {
	// Path is the import path, Name the package name.
	Path, Name string
	// Synopsis is the first sentence of Doc.
	Synopsis string
	// Doc is the package doc comment.
	Doc string `json:",omitempty"`
	// Members holds the package-level members sorted by name, then the
	// methods and fields of each type, sorted by type name and name.
	Members []Member
}

// Lookup returns the documentation of the package with the given import
// path. The result is shared and must not be modified.
func Lookup(path string) (*Package, bool) {
	idx, err := loadIndex()
	if err != nil {
		panic(err)
	}
	e, ok := idx.byPath[path]
	if !ok {
		return nil, false
	}
	e.once.Do(func() { e.pkg, e.err = decodePackage(idx.blobs, e.entry) })
	if e.err != nil {
		panic(e.err)
	}
	return e.pkg, true
}

// Find returns the member of the package at path named name: "Split" for a
// package-level member, "Tensor.Reshape" for a method or field.
func Find(path, name string) (*Member, bool) {
	p, ok := Lookup(path)
	if !ok {
		return nil, false
	}
	recv, own, isQualified := strings.Cut(name, ".")
	if !isQualified {
		recv, own = "", name
	}
	i := sort.Search(len(p.Members), func(i int) bool {
		m := &p.Members[i]
		return m.Recv > recv || m.Recv == recv && m.Name >= own
	})
	if i < len(p.Members) && p.Members[i].Recv == recv && p.Members[i].Name == own {
		return &p.Members[i], true
	}
	return nil, false
}

// Members returns the package-level members of the package at path whose
// names start with prefix, sorted by name (for completing "strings.Sp").
func Members(path, prefix string) []Member {
	return members(path, "", prefix)
}

// Methods returns the methods and fields of the named type in the package at
// path, including those promoted from embedded types, sorted by name (for
// completing "t.Res" on a value of that type).
func Methods(path, typeName string) []Member {
	if typeName == "" {
		return nil
	}
	return members(path, typeName, "")
}

func members(path, recv, prefix string) []Member {
	p, ok := Lookup(path)
	if !ok {
		return nil
	}
	ms := p.Members
	lo := sort.Search(len(ms), func(i int) bool {
		return ms[i].Recv > recv || ms[i].Recv == recv && ms[i].Name >= prefix
	})
	hi := lo
	for hi < len(ms) && ms[hi].Recv == recv && strings.HasPrefix(ms[hi].Name, prefix) {
		hi++
	}
	return ms[lo:hi:hi]
}

// Paths returns the import paths of all documented packages, sorted.
func Paths() []string {
	idx, err := loadIndex()
	if err != nil {
		panic(err)
	}
	paths := make([]string, len(idx.Entries))
	for i, e := range idx.Entries {
		paths[i] = e.Path
	}
	return paths
}

// GoVersion returns the version of the Go toolchain whose standard library
// the index documents, e.g. "go1.26.8".
func GoVersion() string {
	idx, err := loadIndex()
	if err != nil {
		panic(err)
	}
	return idx.GoVersion
}

// The embedded file: the 4-byte big-endian length of a gzip-compressed JSON
// header, the header, then one gzip-compressed JSON Package per entry at the
// offsets the header gives, relative to the end of the header.

//go:embed index.bin
var embedded []byte

type header struct {
	GoVersion string
	Entries   []entry
}

type entry struct {
	Path     string
	Off, Len int
}

type loaded struct {
	entry
	once sync.Once
	pkg  *Package
	err  error
}

type index struct {
	header
	blobs  []byte
	byPath map[string]*loaded
}

var loadIndex = sync.OnceValues(func() (*index, error) {
	idx, err := decodeIndex(embedded)
	if err != nil {
		return nil, fmt.Errorf("docs: embedded index.bin: %w", err)
	}
	return idx, nil
})

func decodeIndex(data []byte) (*index, error) {
	if len(data) < 4 {
		return nil, errors.New("shorter than its 4-byte header length")
	}
	n := int(binary.BigEndian.Uint32(data))
	if n > len(data)-4 {
		return nil, fmt.Errorf("header length %d exceeds the %d bytes that follow", n, len(data)-4)
	}
	idx := &index{blobs: data[4+n:], byPath: map[string]*loaded{}}
	if err := gunzipJSON(data[4:4+n], &idx.header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	for _, e := range idx.Entries {
		if e.Off < 0 || e.Len < 0 || e.Off+e.Len > len(idx.blobs) {
			return nil, fmt.Errorf("package %s: blob [%d, %d) outside the %d bytes of data", e.Path, e.Off, e.Off+e.Len, len(idx.blobs))
		}
		idx.byPath[e.Path] = &loaded{entry: e}
	}
	return idx, nil
}

func decodePackage(blobs []byte, e entry) (*Package, error) {
	p := new(Package)
	if err := gunzipJSON(blobs[e.Off:e.Off+e.Len], p); err != nil {
		return nil, fmt.Errorf("docs: package %s: %w", e.Path, err)
	}
	return p, nil
}

func gunzipJSON(data []byte, v any) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// Encode returns the index file for pkgs (which must be sorted by path and
// have sorted members); the generator writes it to index.bin.
func Encode(goVersion string, pkgs []Package) ([]byte, error) {
	h := header{GoVersion: goVersion}
	var blobs []byte
	for i := range pkgs {
		z, err := gzipJSON(&pkgs[i])
		if err != nil {
			return nil, fmt.Errorf("docs: encode %s: %w", pkgs[i].Path, err)
		}
		h.Entries = append(h.Entries, entry{Path: pkgs[i].Path, Off: len(blobs), Len: len(z)})
		blobs = append(blobs, z...)
	}
	zh, err := gzipJSON(&h)
	if err != nil {
		return nil, err
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(len(zh)))
	out = append(out, zh...)
	return append(out, blobs...), nil
}

func gzipJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
