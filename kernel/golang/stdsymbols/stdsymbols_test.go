package stdsymbols_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/constant"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"log"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/traefik/yaegi/interp"

	"github.com/graftml/graft/kernel/golang/docs"
	"github.com/graftml/graft/kernel/golang/internal/symgen"
	"github.com/graftml/graft/kernel/golang/stdsymbols"
)

const regenerate = "run go generate ./kernel/golang/stdsymbols"

// TestGoVersion checks that the tables come from the Go release that builds
// graft: a newer release adds names the tables lack.
func TestGoVersion(t *testing.T) {
	if want := symgen.GoMinor(runtime.Version()); stdsymbols.GoVersion != want {
		t.Errorf("the tables are from %s, the toolchain is %s (%s); %s", stdsymbols.GoVersion, want, runtime.Version(), regenerate)
	}
}

// TestTablesMatchTheToolchain checks, for every package of the set, that
// its table holds exactly the names yaegi's extractor writes for the
// package as the toolchain's export data describes it now (exported, not
// generic, no constraint interfaces), that each interface wrapper has the
// interface's methods, and that untyped constants have their values. It is
// cheap and catches every change of the standard library's API;
// GRAFT_FULL_GENERATE_CHECK=1 also regenerates the files byte for byte
// (TestTablesUpToDate).
func TestTablesMatchTheToolchain(t *testing.T) {
	pkgs := stdPackages(t)
	keys := map[string]bool{".": true}
	for _, p := range symgen.Std.Paths {
		tp := pkgs[p]
		key := p + "/" + tp.Name()
		keys[key] = true
		tab, ok := stdsymbols.Symbols[key]
		if !ok {
			t.Errorf("no table %q; %s", key, regenerate)
			continue
		}
		want := extracted(tp)
		var got []string
		for name := range tab {
			got = append(got, name)
		}
		sort.Strings(got)
		if missing, extra := diff(want, got); len(missing)+len(extra) > 0 {
			t.Errorf("table of %s: missing %q, not in the package %q; %s", p, missing, extra, regenerate)
			continue
		}
		for _, name := range got {
			v := tab[name]
			obj := tp.Scope().Lookup(strings.TrimPrefix(name, "_"))
			switch {
			case strings.HasPrefix(name, "_"):
				iface := obj.Type().Underlying().(*types.Interface)
				var wantM, gotM []string
				for i := range iface.NumMethods() {
					if m := iface.Method(i); m.Exported() {
						wantM = append(wantM, m.Name())
					}
				}
				w := v.Type().Elem()
				for i := 1; i < w.NumField(); i++ {
					gotM = append(gotM, strings.TrimPrefix(w.Field(i).Name, "W"))
				}
				sort.Strings(wantM)
				sort.Strings(gotM)
				if !slices.Equal(wantM, gotM) {
					t.Errorf("wrapper of %s.%s has methods %q, the interface %q; %s", p, obj.Name(), gotM, wantM, regenerate)
				}
			case v.IsValid() && v.CanInterface():
				c, ok := obj.(*types.Const)
				cv, isConst := v.Interface().(constant.Value)
				if ok && isConst && !sameConstant(c.Val(), cv) {
					t.Errorf("%s.%s = %s in the table, %s in the package; %s", p, name, cv, c.Val(), regenerate)
				}
			}
		}
	}
	for key := range stdsymbols.Symbols {
		if !keys[key] {
			t.Errorf("table %q is not in symgen.Std; %s", key, regenerate)
		}
	}
}

// TestTablesUpToDate regenerates the tables and compares them byte for byte
// with the committed files, when GRAFT_FULL_GENERATE_CHECK=1: extraction
// type-checks 154 packages and their dependencies from source (a minute or
// more).
func TestTablesUpToDate(t *testing.T) {
	if os.Getenv("GRAFT_FULL_GENERATE_CHECK") != "1" {
		t.Skip("set GRAFT_FULL_GENERATE_CHECK=1 to regenerate the standard library's tables (minutes)")
	}
	stale, err := symgen.Std.Stale(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stale {
		t.Error(s)
	}
}

// TestDocsCoverTheTables checks that the documentation index behind
// completion and inspection documents the same standard library: every
// exported package-level name of each package (generic ones included).
func TestDocsCoverTheTables(t *testing.T) {
	if got, want := symgen.GoMinor(docs.GoVersion()), symgen.GoMinor(runtime.Version()); got != want {
		t.Errorf("the documentation index is from %s, the toolchain is %s; run go generate ./kernel/golang/docs", got, want)
	}
	pkgs := stdPackages(t)
	for _, p := range symgen.Std.Paths {
		var want []string
		for _, name := range pkgs[p].Scope().Names() {
			if token.IsExported(name) {
				want = append(want, name)
			}
		}
		var got []string
		for _, m := range docs.Members(p, "") {
			got = append(got, m.Name)
		}
		if missing, extra := diff(want, got); len(missing)+len(extra) > 0 {
			t.Errorf("documentation of %s: missing %q, not in the package %q; run go generate ./kernel/golang/docs", p, missing, extra)
		}
	}
}

// extracted returns the names yaegi's extractor writes into a package's
// table, sorted: exported constants, variables, non-generic funcs and types
// (not constraint interfaces), and "_I" for the wrapper of each interface
// type I.
func extracted(p *types.Package) []string {
	var names []string
	for _, name := range p.Scope().Names() {
		switch o := p.Scope().Lookup(name).(type) {
		case *types.Const, *types.Var:
			if o.Exported() {
				names = append(names, name)
			}
		case *types.Func:
			if o.Exported() && o.Signature().TypeParams().Len() == 0 {
				names = append(names, name)
			}
		case *types.TypeName:
			if !o.Exported() {
				continue
			}
			if n, ok := o.Type().(*types.Named); ok && n.TypeParams().Len() > 0 {
				continue
			}
			if i, ok := o.Type().Underlying().(*types.Interface); ok {
				if i.NumMethods() == 0 && i.NumEmbeddeds() != 0 {
					continue
				}
				names = append(names, "_"+name)
			}
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// sameConstant compares a constant with the value the extractor wrote for
// it (floats as float64: the table spells them with finite precision).
func sameConstant(want, got constant.Value) bool {
	if want.Kind() == constant.Float || got.Kind() == constant.Float {
		w, _ := constant.Float64Val(constant.ToFloat(want))
		g, _ := constant.Float64Val(constant.ToFloat(got))
		return w == g
	}
	return want.Kind() == got.Kind() && constant.Compare(want, token.EQL, got)
}

// diff returns the names of want missing from got and those of got not in
// want; both sorted.
func diff(want, got []string) (missing, extra []string) {
	sort.Strings(want)
	sort.Strings(got)
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			extra = append(extra, g)
		}
	}
	return missing, extra
}

// stdPackages loads the set's packages from the toolchain's export data for
// linux/amd64 (the platform the generator extracts for), with one go list.
var stdPackages = func() func(t *testing.T) map[string]*types.Package {
	var once sync.Once
	var pkgs map[string]*types.Package
	var err error
	load := func() {
		cmd := exec.Command("go", append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}"}, symgen.Std.Paths...)...)
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "GOFLAGS=")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, e := cmd.Output()
		if e != nil {
			err = fmt.Errorf("go list -export: %v\n%s", e, stderr.Bytes())
			return
		}
		exports := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if p, file, ok := strings.Cut(sc.Text(), "="); ok && file != "" {
				exports[p] = file
			}
		}
		imp := importer.ForCompiler(token.NewFileSet(), "gc", func(p string) (io.ReadCloser, error) {
			file, ok := exports[p]
			if !ok {
				return nil, fmt.Errorf("no export data for %s", p)
			}
			return os.Open(file)
		})
		pkgs = map[string]*types.Package{}
		for _, p := range symgen.Std.Paths {
			tp, e := imp.Import(p)
			if e != nil {
				err = fmt.Errorf("importing %s: %w", p, e)
				return
			}
			pkgs[p] = tp
		}
	}
	return func(t *testing.T) map[string]*types.Package {
		t.Helper()
		once.Do(load)
		if err != nil {
			t.Fatal(err)
		}
		return pkgs
	}
}()

// TestLoggerStandIn checks that the stand-in for *log.Logger has every
// method of *log.Logger, with the same signature.
func TestLoggerStandIn(t *testing.T) {
	stand := stdsymbols.Symbols["log/log"]["Logger"].Type()
	real := reflect.TypeFor[*log.Logger]()
	if stand == real {
		t.Fatal("the table's log.Logger is *log.Logger itself, whose Fatal methods exit the process")
	}
	for i := range real.NumMethod() {
		m := real.Method(i)
		sm, ok := stand.MethodByName(m.Name)
		if !ok {
			t.Errorf("the stand-in for log.Logger lacks %s; add it to restricted.go", m.Name)
			continue
		}
		if sm.Type.NumIn() != m.Type.NumIn() || sm.Type.NumOut() != m.Type.NumOut() {
			t.Errorf("(*log.Logger).%s is %v, the stand-in's %v", m.Name, m.Type, sm.Type)
		}
	}
}

// run evaluates cells in a fresh interpreter with the tables and returns
// what they wrote to stdout and stderr (files, so that yaegi points
// os.Stdout and os.Stderr at them too) and the last cell's value.
func run(t *testing.T, cells ...string) (stdout, stderr string, last reflect.Value) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errOut, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errOut.Close()
	i := interp.New(interp.Options{Stdout: out, Stderr: errOut})
	if err := i.Use(stdsymbols.Symbols); err != nil {
		t.Fatal(err)
	}
	for _, c := range cells {
		v, err := i.Eval(c)
		if err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		last = v
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errOut.Name())
	return string(o), string(e), last
}

// TestInterpreter checks the tables in an interpreter: what yaegi does to a
// table with the key "fmt/fmt" (streams, log's Fatal) and the stand-ins.
func TestInterpreter(t *testing.T) {
	stdout, stderr, v := run(t, `import (
	"fmt"
	"log"
	"os"
	"strings"
)`, `type shout string
func (s shout) String() string { return strings.ToUpper(string(s)) + "!" }`,
		`fmt.Println("to", shout("stdout"))`,
		`fmt.Fprintln(os.Stdout, "via os.Stdout")`,
		`log.SetFlags(0); log.Println("logged", shout("x"))`,
		`n := 0; strings.Lines("a\nb\nc")(func(string) bool { n++; return true }); n`)
	if want := "to STDOUT!\nvia os.Stdout\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if want := "logged X!\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	if got, ok := v.Interface().(int); !ok || got != 3 {
		t.Errorf("counting strings.Lines of three lines = %v", v)
	}
	for _, tc := range []struct{ code, panic string }{
		{`os.Exit(2)`, "os.Exit(2): a cell cannot exit the kernel (restart the kernel instead)"},
		{`log.Fatal("fatal")`, "fatal"},
		{`log.New(os.Stderr, "", 0).Fatalf("n=%d", 4)`, "n=4"},
	} {
		i := interp.New(interp.Options{Stdout: io.Discard, Stderr: io.Discard})
		if err := i.Use(stdsymbols.Symbols); err != nil {
			t.Fatal(err)
		}
		if _, err := i.Eval(`import ("log"; "os")`); err != nil {
			t.Fatal(err)
		}
		_, err := i.Eval(tc.code)
		var p interp.Panic
		if !errors.As(err, &p) || fmt.Sprint(p.Value) != tc.panic {
			t.Errorf("%s: %v, want a panic %q", tc.code, err, tc.panic)
		}
	}
	_, _, v = run(t, `import "os"`, `_, err := os.FindProcess(os.Getpid()); err`)
	if err, _ := v.Interface().(error); err == nil || !strings.Contains(err.Error(), "kernel's own process") {
		t.Errorf("os.FindProcess(os.Getpid()) error = %v", v)
	}
}
