package project

import (
	"fmt"
	"math"
	"strings"

	"github.com/graftml/graft/tensor"
	"gonum.org/v1/gonum/mat"
)

// PCAFit is a principal component analysis fitted to a data set: the mean of
// the data and its k leading principal axes. Transform projects any data
// with the same number of columns onto those axes, so that a second data set
// (a target domain, a later checkpoint's features) lands in the same
// coordinates as the first.
//
// Sign convention: principal axes are defined up to sign; in every component
// the entry of largest magnitude is positive (the first such entry on a tie).
// scikit-learn fixes signs differently (by the projections), so its
// components can differ from these by a factor −1 per component.
type PCAFit struct {
	d, k       int
	mean       []float64 // d
	components []float64 // k×d, row-major, unit rows
	variance   []float64 // k, explained variance (N−1 degrees of freedom)
	ratio      []float64 // k, variance / total variance
}

// PCA returns the projections of the rows of x, a tensor of shape (N, D),
// onto its k leading principal components: a (N, k) tensor whose column j is
// the centred data's coordinate along component j. It is FitPCA followed by
// Transform of the same data; see PCAFit for the sign convention.
func PCA(x *tensor.Tensor, k int) (*tensor.Tensor, error) {
	f, err := FitPCA(x, k)
	if err != nil {
		return nil, err
	}
	return f.Transform(x)
}

// FitPCA fits a principal component analysis with k components to the rows
// of x, a tensor of shape (N, D) with N ≥ 2 finite rows; k must be between 1
// and min(N, D). The components are the eigenvectors of the sample
// covariance (the right singular vectors of the centred data) with the k
// largest eigenvalues, in decreasing order of variance.
func FitPCA(x *tensor.Tensor, k int) (*PCAFit, error) {
	data, n, d, err := matrix("pca", x, 2)
	if err != nil {
		return nil, err
	}
	if k < 1 || k > min(n, d) {
		return nil, fmt.Errorf("pca: k = %d components, want 1 ≤ k ≤ min(N, D) = %d for x of shape (%d,%d)", k, min(n, d), n, d)
	}
	f, err := fitPCA(data, n, d, k)
	if err != nil {
		return nil, fmt.Errorf("pca: %w", err)
	}
	return f, nil
}

// fitPCA fits k components to the n×d row-major data (k ≤ min(n, d), n ≥ 2).
func fitPCA(data []float64, n, d, k int) (*PCAFit, error) {
	f := &PCAFit{d: d, k: k, mean: make([]float64, d)}
	for i := range n {
		row := data[i*d : (i+1)*d]
		for j, v := range row {
			f.mean[j] += v
		}
	}
	for j := range f.mean {
		f.mean[j] /= float64(n)
	}
	centred := make([]float64, n*d)
	var total float64
	for i := range n {
		for j := range d {
			c := data[i*d+j] - f.mean[j]
			centred[i*d+j] = c
			total += c * c
		}
	}
	dof := float64(n - 1)
	total /= dof
	xc := mat.NewDense(n, d, centred)

	f.components = make([]float64, k*d)
	f.variance = make([]float64, k)
	if n >= d {
		// Eigenvectors of the d×d covariance: cheaper than an SVD of the
		// tall centred matrix (measured: 5.7 s against 14.7 s for
		// 10000×768 on 2 cores).
		var cov mat.SymDense
		cov.SymOuterK(1/dof, xc.T())
		var eig mat.EigenSym
		if !eig.Factorize(&cov, true) {
			return nil, fmt.Errorf("eigendecomposition of the %d×%d covariance did not converge", d, d)
		}
		vals := eig.Values(nil) // ascending
		var vecs mat.Dense
		eig.VectorsTo(&vecs)
		for c := range k {
			col := d - 1 - c
			f.variance[c] = max(vals[col], 0)
			for j := range d {
				f.components[c*d+j] = vecs.At(j, col)
			}
		}
	} else {
		var svd mat.SVD
		if !svd.Factorize(xc, mat.SVDThin) {
			return nil, fmt.Errorf("SVD of the centred %d×%d data did not converge", n, d)
		}
		s := svd.Values(nil) // descending
		var v mat.Dense
		svd.VTo(&v)
		for c := range k {
			f.variance[c] = s[c] * s[c] / dof
			for j := range d {
				f.components[c*d+j] = v.At(j, c)
			}
		}
	}
	f.ratio = make([]float64, k)
	for c := range k {
		row := f.components[c*d : (c+1)*d]
		big := 0
		for j, v := range row {
			if math.Abs(v) > math.Abs(row[big]) {
				big = j
			}
		}
		if row[big] < 0 {
			for j := range row {
				row[j] = -row[j]
			}
		}
		if total > 0 {
			f.ratio[c] = f.variance[c] / total
		}
	}
	return f, nil
}

// Transform returns the coordinates of the rows of x, a tensor of shape
// (M, D) with the fit's D, along the fitted components: (x − mean) ·
// componentsᵀ, of shape (M, k).
func (f *PCAFit) Transform(x *tensor.Tensor) (*tensor.Tensor, error) {
	data, m, d, err := matrix("pca: transform", x, 0)
	if err != nil {
		return nil, err
	}
	if d != f.d {
		return nil, fmt.Errorf("pca: transform: x has %d columns, the fit has %d", d, f.d)
	}
	return toTensor(f.project(data, m), m, f.k), nil
}

// project returns the m×k coordinates of the m×d row-major data.
func (f *PCAFit) project(data []float64, m int) []float64 {
	out := make([]float64, m*f.k)
	d := f.d
	for i := range m {
		row := data[i*d : (i+1)*d]
		for c := range f.k {
			comp := f.components[c*d : (c+1)*d]
			var s float64
			for j, v := range row {
				s += (v - f.mean[j]) * comp[j]
			}
			out[i*f.k+c] = s
		}
	}
	return out
}

// Components returns the principal axes as a (k, D) tensor, one unit-length
// component per row, in decreasing order of explained variance.
func (f *PCAFit) Components() *tensor.Tensor { return toTensor(f.components, f.k, f.d) }

// Mean returns the per-column mean of the fitted data, a tensor of shape (D).
func (f *PCAFit) Mean() *tensor.Tensor { return toTensor(f.mean, f.d) }

// ExplainedVariance returns the variance of the fitted data along each
// component (with N−1 degrees of freedom, as scikit-learn's
// explained_variance_).
func (f *PCAFit) ExplainedVariance() []float64 { return append([]float64(nil), f.variance...) }

// ExplainedVarianceRatio returns the fraction of the fitted data's total
// variance along each component; it sums to at most 1 (exactly 1 when k
// equals the rank of the centred data). Data without variance gives zeros.
func (f *PCAFit) ExplainedVarianceRatio() []float64 { return append([]float64(nil), f.ratio...) }

// String describes the fit in one line: sizes and explained variance ratios.
func (f *PCAFit) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "PCA: %d of %d dimensions, explained variance ratio [", f.k, f.d)
	var total float64
	for c, r := range f.ratio {
		if c > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.4g", r)
		total += r
	}
	fmt.Fprintf(&b, "] (total %.4g)", total)
	return b.String()
}
