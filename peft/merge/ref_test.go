package merge

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/tensor"
)

// sparseRefCase is one merge for testdata/sparse_ref.py.
type sparseRefCase struct {
	Method     string      `json:"method"`
	Deltas     [][]float64 `json:"deltas"`
	Weights    []float64   `json:"weights"`
	Lambda     float64     `json:"lambda"`
	Density    float64     `json:"density"`
	Convention string      `json:"convention"`
	ByCount    bool        `json:"by_count"`
	Beta       float64     `json:"beta"`
	Gamma      float64     `json:"gamma"`
}

// TestSparseNumpyReference compares task arithmetic, TIES (both conventions, both
// sign elections) and Breadcrumbs with a numpy implementation of their
// definitions on random task vectors with unequal weights.
func TestSparseNumpyReference(t *testing.T) {
	r := tensor.NewRNG(9)
	shape := []int{6, 9}
	var methods []Method
	var cases []sparseRefCase
	for trial := range 6 {
		deltas := []*tensor.Tensor{tensor.Randn(r, shape...), tensor.Randn(r, shape...), tensor.Randn(r, shape...)}
		w := []float64{0.3 + float64(trial), 1.7, 0.6}
		lam := 0.4 + 0.2*float64(trial)
		flat := make([][]float64, len(deltas))
		for i, d := range deltas {
			flat[i] = d.Float64s()
		}
		add := func(m Method, c sparseRefCase) {
			c.Deltas, c.Weights, c.Lambda = flat, w, lam
			methods = append(methods, m)
			cases = append(cases, c)
		}
		add(TaskArithmetic{Weights: w, Lambda: lam}, sparseRefCase{Method: "arith"})
		for _, conv := range []TIESConvention{ConventionMergekit, ConventionPEFT} {
			for _, byCount := range []bool{false, true} {
				density := []float64{0.2, 0.35, 0.5, 0.8, 1, 0.1}[trial]
				add(TIES{Weights: w, Lambda: lam, Density: density, Convention: conv, ElectByCount: byCount},
					sparseRefCase{Method: "ties", Density: density, Convention: map[TIESConvention]string{ConventionMergekit: "mergekit", ConventionPEFT: "peft"}[conv], ByCount: byCount})
			}
		}
		beta, gamma := 0.02*float64(trial), 0.1*float64(trial)
		add(Breadcrumbs{Weights: w, Lambda: lam, Beta: beta, Gamma: gamma}, sparseRefCase{Method: "breadcrumbs", Beta: beta, Gamma: gamma})
	}
	var want [][]float64
	testenv.RunJSON(t, filepath.Join("testdata", "sparse_ref.py"), cases, &want, "numpy")
	for i, m := range methods {
		got, err := m.MergeTensor("w", nil, taskVecs(shape, cases[i].Deltas...))
		if err != nil {
			t.Fatalf("%s: %v", m.Name(), err)
		}
		for j, v := range got.Float64s() {
			if math.Abs(v-want[i][j]) > 1e-5*math.Max(1, math.Abs(want[i][j])) {
				t.Fatalf("case %d, %s %+v: entry %d = %v, numpy %v", i, m.Name(), m, j, v, want[i][j])
			}
		}
	}
}
