package docs_test

import (
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/kernel/golang/docs"
	"github.com/graftml/graft/kernel/golang/docs/internal/docgen"
	"github.com/graftml/graft/kernel/golang/symbols"
)

const tensorPath = "github.com/graftml/graft/tensor"

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		path, name            string
		kind, recv, signature string
		docPrefix             string
	}{
		{"strings", "Split", docs.KindFunc, "", "func Split(s, sep string) []string",
			"Split slices s into all substrings separated by sep"},
		{tensorPath, "Tensor.Reshape", docs.KindMethod, "Tensor", "func (t *Tensor) Reshape(shape ...int) *Tensor",
			"Reshape returns a tensor with the same values in a new shape"},
		{tensorPath, "New", docs.KindFunc, "", "func New(data []float32, shape ...int) *Tensor", "New "},
		{"github.com/graftml/graft/display", "Bundle.Data", docs.KindField, "Bundle", "Data map[string]any", ""},
		{"github.com/graftml/graft/display", "Displayer", docs.KindType, "",
			"type Displayer interface {\n\tDisplay() Bundle\n}", "Displayer is implemented by a value"},
		{"github.com/graftml/graft/display", "Displayer.Display", docs.KindMethod, "Displayer", "func (Displayer) Display() Bundle", ""},
		{"io", "Reader.Read", docs.KindMethod, "Reader", "func (Reader) Read(p []byte) (n int, err error)", ""},
		{"io", "SeekStart", docs.KindConst, "", "const SeekStart = 0", "Seek whence values."},
		{"io", "EOF", docs.KindVar, "", `var EOF = errors.New("EOF")`, "EOF is the error returned by Read"},
		{"math", "MaxInt8", docs.KindConst, "", "const MaxInt8 = 1<<7 - 1", "Integer limit values."},
		// Implicit repetition in an iota group keeps the type.
		{"time", "Tuesday", docs.KindConst, "", "const Tuesday Weekday", ""},
		{"slices", "Collect", docs.KindFunc, "", "func Collect[E any](seq iter.Seq[E]) []E", "Collect collects values from seq"},
	} {
		m, ok := docs.Find(tc.path, tc.name)
		if !ok {
			t.Errorf("Find(%q, %q) found nothing", tc.path, tc.name)
			continue
		}
		if m.Kind != tc.kind || m.Recv != tc.recv || m.Signature != tc.signature || !strings.HasPrefix(m.Doc, tc.docPrefix) {
			t.Errorf("Find(%q, %q) = %+v, want kind %s, recv %q, signature %q, doc starting %q",
				tc.path, tc.name, *m, tc.kind, tc.recv, tc.signature, tc.docPrefix)
		}
		if q := m.QualifiedName(); q != tc.name {
			t.Errorf("QualifiedName of %s = %q", tc.name, q)
		}
	}
	for _, miss := range [][2]string{{"strings", "Nope"}, {"strings", "Builder.Nope"}, {"no/such/pkg", "X"}, {"strings", "split"}} {
		if m, ok := docs.Find(miss[0], miss[1]); ok {
			t.Errorf("Find(%q, %q) = %+v, want nothing", miss[0], miss[1], *m)
		}
	}
}

func names(ms []docs.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func TestMembersForCompletion(t *testing.T) {
	got := names(docs.Members("strings", "Sp"))
	want := []string{"Split", "SplitAfter", "SplitAfterN", "SplitAfterSeq", "SplitN", "SplitSeq"}
	if !slices.Equal(got, want) {
		t.Errorf(`Members("strings", "Sp") = %q, want %q`, got, want)
	}
	// Methods and fields are not package-level members.
	if got := names(docs.Members("strings", "Write")); len(got) != 0 {
		t.Errorf(`Members("strings", "Write") = %q, want none (WriteString is a method)`, got)
	}
	all := docs.Members(tensorPath, "")
	if !slices.Contains(names(all), "Tensor") || slices.ContainsFunc(all, func(m docs.Member) bool { return m.Recv != "" }) {
		t.Errorf("Members(tensor, \"\") = %q, want the package-level names including Tensor", names(all))
	}
}

func TestMethods(t *testing.T) {
	ms := docs.Methods(tensorPath, "Tensor")
	if !slices.Contains(names(ms), "Reshape") || !slices.Contains(names(ms), "MatMul") {
		t.Errorf("Methods(tensor, Tensor) = %q, want Reshape and MatMul among them", names(ms))
	}
	for _, m := range ms {
		if m.Recv != "Tensor" || m.Kind != docs.KindMethod {
			t.Errorf("Methods(tensor, Tensor) has %+v", m)
		}
	}
	// bufio.ReadWriter embeds *Reader and *Writer: their methods are
	// promoted, except those both declare (ambiguous in Go).
	rw := names(docs.Methods("bufio", "ReadWriter"))
	for _, want := range []string{"Reader", "Writer", "ReadString", "WriteString", "Flush", "Peek"} {
		if !slices.Contains(rw, want) {
			t.Errorf("Methods(bufio, ReadWriter) lacks %s: %q", want, rw)
		}
	}
	for _, ambiguous := range []string{"Reset", "Size", "Buffered"} {
		if slices.Contains(rw, ambiguous) {
			t.Errorf("Methods(bufio, ReadWriter) has the ambiguous %s", ambiguous)
		}
	}
	// Embedded interfaces: io.ReadWriteCloser embeds io's own, http.File
	// embeds io.Closer, io.Reader and io.Seeker from another package.
	if got, want := names(docs.Methods("io", "ReadWriteCloser")), []string{"Close", "Read", "Write"}; !slices.Equal(got, want) {
		t.Errorf("Methods(io, ReadWriteCloser) = %q, want %q", got, want)
	}
	file := names(docs.Methods("net/http", "File"))
	for _, want := range []string{"Close", "Read", "Seek", "Readdir", "Stat"} {
		if !slices.Contains(file, want) {
			t.Errorf("Methods(net/http, File) lacks %s (promoted from io): %q", want, file)
		}
	}
	if m, ok := docs.Find("net/http", "File.Read"); !ok || m.Signature != "func (Reader) Read(p []byte) (n int, err error)" {
		t.Errorf("Find(net/http, File.Read) = %+v, %v; want io.Reader's Read", m, ok)
	}
	if ms := docs.Methods("strings", ""); ms != nil {
		t.Errorf(`Methods("strings", "") = %q, want nil`, names(ms))
	}
}

func TestPackages(t *testing.T) {
	p, ok := docs.Lookup("fmt")
	if !ok || p.Name != "fmt" || !strings.HasPrefix(p.Synopsis, "Package fmt implements formatted I/O") || !strings.Contains(p.Doc, "%v") {
		t.Errorf("Lookup(fmt) = %v, synopsis %q", ok, p.Synopsis)
	}
	p, ok = docs.Lookup("math/rand/v2")
	if !ok || p.Name != "rand" {
		t.Errorf("Lookup(math/rand/v2) = %v, %v; want package rand", ok, p)
	}
	paths := docs.Paths()
	for _, want := range append(symbols.Paths(), "iter", "net/http", "strings") {
		if _, ok := slices.BinarySearch(paths, want); !ok {
			t.Errorf("Paths() lacks %s", want)
		}
	}
	for _, p := range paths {
		if strings.Contains(p, "internal") || p == "." || strings.HasPrefix(p, "github.com/traefik") {
			t.Errorf("Paths() has %s", p)
		}
	}
}

// TestIndexUpToDate regenerates the index and compares it with the embedded
// one. The standard library part is compared only when this toolchain built
// the index (and on Linux, whose yaegi tables decide the package list).
func TestIndexUpToDate(t *testing.T) {
	fresh, err := docgen.BuildAll(".")
	if err != nil {
		t.Fatal(err)
	}
	checkStd := runtime.Version() == docs.GoVersion() && runtime.GOOS == "linux"
	if !checkStd {
		t.Logf("index built by %s; comparing graft's packages only under %s/%s", docs.GoVersion(), runtime.Version(), runtime.GOOS)
	}
	var freshPaths []string
	for i := range fresh {
		p := &fresh[i]
		graft := strings.HasPrefix(p.Path, docgen.Module+"/")
		if !graft && !checkStd {
			continue
		}
		freshPaths = append(freshPaths, p.Path)
		have, ok := docs.Lookup(p.Path)
		if !ok {
			t.Errorf("index lacks %s; run go generate ./kernel/golang/docs", p.Path)
			continue
		}
		if !reflect.DeepEqual(have, p) {
			t.Errorf("index entry of %s is stale (%s); run go generate ./kernel/golang/docs", p.Path, firstDifference(have, p))
		}
	}
	for _, p := range docs.Paths() {
		graft := strings.HasPrefix(p, docgen.Module+"/")
		if (graft || checkStd) && !slices.Contains(freshPaths, p) {
			t.Errorf("index has %s, which is no longer documented; run go generate ./kernel/golang/docs", p)
		}
	}
}

// firstDifference describes where two versions of a package's docs differ.
func firstDifference(have, want *docs.Package) string {
	for i := range min(len(have.Members), len(want.Members)) {
		if have.Members[i] != want.Members[i] {
			return "member " + want.Members[i].QualifiedName()
		}
	}
	if len(have.Members) != len(want.Members) {
		return "number of members"
	}
	return "package doc"
}
