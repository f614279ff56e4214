package tta

import (
	"fmt"
	"math"
	"sort"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/tensor"
)

// LAMEOptions are the settings of NewLAME.
type LAMEOptions struct {
	// K is the number of nearest neighbours in the affinity (0: 5).
	K int
	// MaxIter bounds the concave–convex iterations (0: 100).
	MaxIter int
}

// LAME is Laplacian-adjusted maximum-likelihood estimation (Boudiaf et al.
// 2022): it leaves the model untouched and only corrects its outputs on a
// batch, so that samples close in feature space get similar predictions
// (LaplacianAdjust over a kNN affinity of the L2-normalised features).
type LAME struct {
	*adaptable
	k, maxIter int
}

// NewLAME returns LAME on m, or an error for a negative K or MaxIter.
func NewLAME(m models.Classifier, opt LAMEOptions) (*LAME, error) {
	if opt.K < 0 || opt.MaxIter < 0 {
		return nil, fmt.Errorf("tta.NewLAME: k %d and max iterations %d must not be negative", opt.K, opt.MaxIter)
	}
	if opt.K == 0 {
		opt.K = 5
	}
	if opt.MaxIter == 0 {
		opt.MaxIter = 100
	}
	a, err := newAdaptable("LAME", m, false)
	if err != nil {
		return nil, err
	}
	return &LAME{a, opt.K, opt.MaxIter}, nil
}

// Adapt returns the adjusted assignments z of x as log-probabilities.
func (l *LAME) Adapt(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkBatch("LAME", x, false); err != nil {
		return nil, err
	}
	defer tensor.NoGrad()()
	f := l.model.Features(x)
	probs := l.model.Classify(f).Softmax(1)
	w, err := KNNAffinity(f.Div(f.Square().SumKeep(1).Sqrt().AddScalar(1e-12)), l.k)
	if err != nil {
		return nil, err
	}
	z, _, err := LaplacianAdjust(probs, w, l.maxIter)
	if err != nil {
		return nil, err
	}
	return z.AddScalar(1e-12).Log(), nil
}

// Reset does nothing: LAME keeps no state.
func (l *LAME) Reset() error { return nil }

// KNNAffinity returns the symmetric k-nearest-neighbour affinity of the rows
// of features (N, D): W = (A + Aᵀ)/2 with A_ij = 1 when j is one of the k
// rows nearest to i in Euclidean distance (i itself excluded), else 0. With
// N ≤ k every other row is a neighbour.
func KNNAffinity(features *tensor.Tensor, k int) (*tensor.Tensor, error) {
	if features.Dims() != 2 || features.Dim(0) == 0 {
		return nil, fmt.Errorf("tta.KNNAffinity: features %s must be (N, D) with N > 0", tensor.FormatShape(features.Shape()))
	}
	if k <= 0 {
		return nil, fmt.Errorf("tta.KNNAffinity: k %d must be positive", k)
	}
	n, d := features.Dim(0), features.Dim(1)
	fd := features.Data()
	w := make([]float64, n*n)
	idx := make([]int, 0, n)
	dist := make([]float64, n)
	for i := 0; i < n; i++ {
		idx = idx[:0]
		for j := 0; j < n; j++ {
			var s float64
			for c := 0; c < d; c++ {
				v := float64(fd[i*d+c]) - float64(fd[j*d+c])
				s += v * v
			}
			dist[j] = s
			if j != i {
				idx = append(idx, j)
			}
		}
		sort.SliceStable(idx, func(a, b int) bool { return dist[idx[a]] < dist[idx[b]] })
		for _, j := range idx[:min(k, len(idx))] {
			w[i*n+j] += 0.5
			w[j*n+i] += 0.5
		}
	}
	return tensor.FromFloat64(w, n, n), nil
}

// LaplacianAdjust solves LAME's problem for a batch: given class
// probabilities p (N, K) and a symmetric affinity W (N, N), it finds the
// assignments z minimising Σᵢ KL(zᵢ‖pᵢ) − Σᵢⱼ wᵢⱼ zᵢᵀzⱼ by the
// concave–convex iterations zᵢ ∝ pᵢ ⊙ exp(Σⱼ wᵢⱼ zⱼ), starting from z = p,
// until the energy Σᵢ zᵢᵀ(log zᵢ − log pᵢ − Σⱼ wᵢⱼ zⱼ) changes by at most
// 1e-8 of its value, or maxIter iterations. It returns z and the number of
// iterations run.
func LaplacianAdjust(probs, affinity *tensor.Tensor, maxIter int) (*tensor.Tensor, int, error) {
	if probs.Dims() != 2 || probs.Dim(0) == 0 || affinity.Dims() != 2 || affinity.Dim(0) != probs.Dim(0) || affinity.Dim(1) != probs.Dim(0) {
		return nil, 0, fmt.Errorf("tta.LaplacianAdjust: probabilities %s and affinity %s must be (N, K) and (N, N) with N > 0",
			tensor.FormatShape(probs.Shape()), tensor.FormatShape(affinity.Shape()))
	}
	if maxIter <= 0 {
		return nil, 0, fmt.Errorf("tta.LaplacianAdjust: max iterations %d must be positive", maxIter)
	}
	n, k := probs.Dim(0), probs.Dim(1)
	w := affinity.Float64s()
	logp := probs.Float64s()
	for i, v := range logp {
		if math.IsNaN(v) || v < 0 {
			return nil, 0, fmt.Errorf("tta.LaplacianAdjust: probability %g at row %d is not a probability", v, i/k)
		}
		logp[i] = math.Log(v + 1e-10)
	}
	z := softmaxRows(logp, n, k)
	pair := make([]float64, n*k)
	oldE := math.Inf(1)
	it := 0
	for it < maxIter {
		it++
		for i := 0; i < n; i++ {
			for c := 0; c < k; c++ {
				var s float64
				for j := 0; j < n; j++ {
					s += w[i*n+j] * z[j*k+c]
				}
				pair[i*k+c] = s
			}
		}
		e := make([]float64, n*k)
		for i := range e {
			e[i] = logp[i] + pair[i]
		}
		z = softmaxRows(e, n, k)
		var energy float64
		for i, v := range z {
			energy += v * (math.Log(max(v, 1e-20)) - logp[i] - pair[i])
		}
		if it > 2 && math.Abs(energy-oldE) <= 1e-8*math.Abs(oldE) {
			break
		}
		oldE = energy
	}
	return tensor.FromFloat64(z, n, k), it, nil
}

// softmaxRows returns the row-wise softmax of the (n, k) values e.
func softmaxRows(e []float64, n, k int) []float64 {
	out := make([]float64, n*k)
	for i := 0; i < n; i++ {
		row := e[i*k : (i+1)*k]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for c, v := range row {
			out[i*k+c] = math.Exp(v - m)
			s += out[i*k+c]
		}
		for c := range row {
			out[i*k+c] /= s
		}
	}
	return out
}
