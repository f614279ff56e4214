package project

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/tensor"
)

// blobs returns n points in d dimensions drawn around k centres (point i
// belongs to cluster i mod k): centres with coordinates ~ N(0, spread²),
// points ~ N(centre, 1).
func blobs(n, d, k int, spread float64, seed uint64) (*tensor.Tensor, []int) {
	r := tensor.NewRNG(seed)
	centres := make([]float64, k*d)
	for t := range centres {
		centres[t] = spread * r.NormFloat64()
	}
	x := make([]float32, n*d)
	labels := make([]int, n)
	for i := range n {
		c := i % k
		labels[i] = c
		for j := range d {
			x[i*d+j] = float32(centres[c*d+j] + r.NormFloat64())
		}
	}
	return tensor.New(x, n, d), labels
}

// nnAccuracy returns the leave-one-out 1-nearest-neighbour accuracy of the
// labels in the (N, k) embedding y: the fraction of points whose nearest
// other point has the same label.
func nnAccuracy(y *tensor.Tensor, labels []int) float64 {
	n, k := y.Dim(0), y.Dim(1)
	v := y.Data()
	right := 0
	for i := range n {
		best, bestD := -1, math.Inf(1)
		for j := range n {
			if j == i {
				continue
			}
			var d float64
			for c := range k {
				e := float64(v[i*k+c] - v[j*k+c])
				d += e * e
			}
			if d < bestD {
				best, bestD = j, d
			}
		}
		if labels[best] == labels[i] {
			right++
		}
	}
	return float64(right) / float64(n)
}

// rowsTensor returns JSON rows as an (N, D) float32 tensor.
func rowsTensor(rows [][]float64) *tensor.Tensor {
	d := len(rows[0])
	out := make([]float32, 0, len(rows)*d)
	for _, r := range rows {
		for _, v := range r {
			out = append(out, float32(v))
		}
	}
	return tensor.New(out, len(rows), d)
}

// reference is what testdata/sklearn_ref.py computes.
type reference struct {
	PCA []struct {
		X, X2             [][]float64
		K                 int
		Components        [][]float64
		Mean              []float64
		ExplainedVariance []float64 `json:"explained_variance"`
		Ratio             []float64
		TransformX2       [][]float64 `json:"transform_x2"`
	}
	Joint struct {
		X          [][]float64
		Perplexity float64
		K          int
		P          [][]float64
		PNN        [][]float64 `json:"p_nn"`
	}
	Digits struct {
		X                [][]float64
		Labels           []int
		SklearnEmbedding [][]float64 `json:"sklearn_embedding"`
		SklearnKL        float64     `json:"sklearn_kl"`
		SklearnTrust     float64     `json:"sklearn_trust"`
	}
	path string // the JSON file
}

var sklearnOnce struct {
	sync.Once
	ref *reference
	err string
}

// sklearnReference runs testdata/sklearn_ref.py once per test binary (it
// takes a few seconds: it runs scikit-learn's t-SNE) and returns its values;
// it skips (or fails under CI) without Python and scikit-learn.
func sklearnReference(t *testing.T) (python string, ref *reference) {
	t.Helper()
	python = testenv.RequirePython(t, "sklearn", "scipy", "numpy")
	sklearnOnce.Do(func() {
		dir, err := os.MkdirTemp("", "graft-project-")
		if err != nil {
			sklearnOnce.err = err.Error()
			return
		}
		path := filepath.Join(dir, "ref.json")
		out, err := exec.Command(python, filepath.Join("testdata", "sklearn_ref.py"), "ref", path).CombinedOutput()
		if err != nil {
			sklearnOnce.err = "testdata/sklearn_ref.py: " + err.Error() + "\n" + string(out)
			return
		}
		data, err := os.ReadFile(path)
		if err != nil {
			sklearnOnce.err = err.Error()
			return
		}
		var r reference
		if err := json.Unmarshal(data, &r); err != nil {
			sklearnOnce.err = "reading the reference: " + err.Error()
			return
		}
		r.path = path
		sklearnOnce.ref = &r
	})
	if sklearnOnce.err != "" {
		t.Fatal(sklearnOnce.err)
	}
	return python, sklearnOnce.ref
}

// maxRelDiff returns max |got − want| / scale over the entries, where scale
// is the largest |want| (so entries near zero are held to the matrix's
// scale), and the index of the worst entry.
func maxRelDiff(got, want []float64) (float64, int) {
	var scale float64
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	worst, at := 0.0, -1
	for i := range want {
		if e := math.Abs(got[i]-want[i]) / scale; e > worst || at < 0 {
			worst, at = e, i
		}
	}
	return worst, at
}

// flat returns the rows as one row-major slice.
func flat(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}
