package da

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/graftml/graft/tensor"
)

// Estimator names an estimator of the squared maximum mean discrepancy.
type Estimator string

// The MMD² estimators of Gretton et al. (2012).
const (
	// Biased is the quadratic-time V-statistic: the mean of every
	// within-source and within-target kernel value (diagonal included)
	// minus twice the mean cross value. Never negative.
	Biased Estimator = "biased"
	// Unbiased is the quadratic-time U-statistic: like Biased but without
	// the diagonal terms k(x_i, x_i); it may be slightly negative when the
	// domains agree. Needs at least two samples per domain.
	Unbiased Estimator = "unbiased"
	// Linear is the linear-time estimator: consecutive samples are taken in
	// pairs, and each quad-tuple (x_2i, x_2i+1, y_2i, y_2i+1) contributes
	// k(x,x′) + k(y,y′) − k(x,y′) − k(x′,y). It uses the first
	// 2⌊min(Ns,Nt)/2⌋ samples of each domain, so at least two per domain,
	// and takes its heuristic bandwidth from the squared distances of the
	// pairs it uses, so that it stays linear in the batch size.
	Linear Estimator = "linear"
)

// DefaultMultipliers are the factors DAN applies to the base squared
// bandwidth: 2^-2, 2^-1, 1, 2, 4.
var DefaultMultipliers = []float64{0.25, 0.5, 1, 2, 4}

// Kernels is a family of Gaussian kernels k_σ(x, y) = exp(−‖x−y‖²/(2σ²))
// whose sum is the multi-kernel of MK-MMD. The zero value is DAN's family:
// the base σ² is the mean squared distance between all pairs of the pooled
// source and target samples, times each of DefaultMultipliers. Bandwidths are
// computed from the values of the samples, outside autodiff: no gradient
// flows through them (as in DAN's implementations).
type Kernels struct {
	// Sigmas, when set, are fixed bandwidths σ (not squared); the
	// heuristic and Multipliers are then unused.
	Sigmas []float64
	// Multipliers multiply the base σ² (nil: DefaultMultipliers).
	Multipliers []float64
	// Median takes the base σ² as the median squared distance between
	// distinct pooled samples (the median heuristic) instead of the mean.
	Median bool
}

// MMDOptions are the settings of MMD. The zero value is the biased
// quadratic estimator with DAN's kernel family.
type MMDOptions struct {
	// Estimator picks the estimator ("": Biased).
	Estimator Estimator
	// Kernels is the kernel family (zero value: DAN's).
	Kernels Kernels
}

// MMD returns the squared maximum mean discrepancy between a source batch xs
// (Ns, D) and a target batch xt (Nt, D) under a sum of Gaussian kernels, as a
// differentiable scalar (multi-kernel MMD, Gretton et al. 2012; Long et al.
// 2015).
func MMD(xs, xt *tensor.Tensor, opt MMDOptions) (*tensor.Tensor, error) {
	return jointMMD("da.MMD", []*tensor.Tensor{xs}, []*tensor.Tensor{xt}, opt.Estimator, []Kernels{opt.Kernels})
}

// JMMDOptions are the settings of JointMMD. The zero value is the biased
// estimator with DAN's kernel family on every layer.
type JMMDOptions struct {
	// Estimator picks the estimator ("": Biased).
	Estimator Estimator
	// Kernels holds one kernel family per layer; layers past its end (all,
	// when nil) take the zero value, DAN's family.
	Kernels []Kernels
}

// JointMMD returns the joint maximum mean discrepancy (JAN, Long et al. 2017)
// between the source activations xs[l] (Ns, D_l) and the target activations
// xt[l] (Nt, D_l) of several layers: the squared MMD under the product over
// layers of each layer's kernel (each a sum of Gaussians), so that the joint
// distribution of the layers is matched, not each marginal.
func JointMMD(xs, xt []*tensor.Tensor, opt JMMDOptions) (*tensor.Tensor, error) {
	if len(xs) == 0 || len(xs) != len(xt) {
		return nil, fmt.Errorf("da.JointMMD: %d source layers and %d target layers, want the same number, at least 1", len(xs), len(xt))
	}
	ks := make([]Kernels, len(xs))
	copy(ks, opt.Kernels)
	return jointMMD("da.JointMMD", xs, xt, opt.Estimator, ks)
}

// jointMMD is MMD under the product over layers of each layer's summed
// Gaussian kernel; one layer is plain (multi-kernel) MMD.
func jointMMD(fn string, xs, xt []*tensor.Tensor, est Estimator, ks []Kernels) (*tensor.Tensor, error) {
	if est == "" {
		est = Biased
	}
	if est != Biased && est != Unbiased && est != Linear {
		return nil, fmt.Errorf("%s: estimator %q, want %q, %q or %q", fn, est, Biased, Unbiased, Linear)
	}
	var ns, nt int
	for l := range xs {
		name := "xs"
		if len(xs) > 1 {
			name = fmt.Sprintf("xs[%d]", l)
		}
		a, b, err := checkBatches(fn, name, xs[l], xt[l])
		if err != nil {
			return nil, err
		}
		if l == 0 {
			ns, nt = a, b
		} else if a != ns || b != nt {
			return nil, fmt.Errorf("%s: layer %d has %d source and %d target rows, layer 0 has %d and %d", fn, l, a, b, ns, nt)
		}
		if err := ks[l].check(fn); err != nil {
			return nil, err
		}
	}
	need := 1
	if est != Biased {
		need = 2
	}
	if ns < need || nt < need {
		return nil, fmt.Errorf("%s: the %s estimator needs at least %d samples per domain, got %d source and %d target", fn, est, need, ns, nt)
	}
	if est == Linear {
		return linearMMD(xs, xt, ks), nil
	}
	zs := make([]*tensor.Tensor, len(xs))
	for l := range xs {
		zs[l] = tensor.Concat(0, xs[l], xt[l])
	}
	return kernelMMD(zs, ks, mmdWeights(ns, nt, est == Unbiased)), nil
}

// checkBatches checks that xs and xt are non-empty matrices of the same width
// and returns their numbers of rows.
func checkBatches(fn, name string, xs, xt *tensor.Tensor) (ns, nt int, err error) {
	tname := "xt" + name[2:]
	if xs == nil || xt == nil {
		return 0, 0, fmt.Errorf("%s: %s or %s is nil", fn, name, tname)
	}
	if xs.Dims() != 2 || xt.Dims() != 2 {
		return 0, 0, fmt.Errorf("%s: %s is %s and %s is %s, want (N, D) matrices", fn, name,
			tensor.FormatShape(xs.Shape()), tname, tensor.FormatShape(xt.Shape()))
	}
	if xs.Dim(1) != xt.Dim(1) {
		return 0, 0, fmt.Errorf("%s: source width %d (%s %s) differs from target width %d (%s %s)", fn,
			xs.Dim(1), name, tensor.FormatShape(xs.Shape()), xt.Dim(1), tname, tensor.FormatShape(xt.Shape()))
	}
	if xs.Dim(0) == 0 {
		return 0, 0, fmt.Errorf("%s: source batch %s is empty (0 rows)", fn, name)
	}
	if xt.Dim(0) == 0 {
		return 0, 0, fmt.Errorf("%s: target batch %s is empty (0 rows)", fn, tname)
	}
	return xs.Dim(0), xt.Dim(0), nil
}

func (k Kernels) check(fn string) error {
	for i, s := range k.Sigmas {
		if !(s > 0) || math.IsInf(s, 0) {
			return fmt.Errorf("%s: Kernels.Sigmas[%d] = %v, want a finite bandwidth > 0", fn, i, s)
		}
	}
	for i, m := range k.Multipliers {
		if !(m > 0) || math.IsInf(m, 0) {
			return fmt.Errorf("%s: Kernels.Multipliers[%d] = %v, want a finite factor > 0", fn, i, m)
		}
	}
	return nil
}

// sigmas2 returns the squared bandwidths of the family for the squared
// distances d2: an n×n matrix when square, else a list of pair distances.
func (k Kernels) sigmas2(d2 []float64, n int, square bool) []float64 {
	if len(k.Sigmas) > 0 {
		out := make([]float64, len(k.Sigmas))
		for i, s := range k.Sigmas {
			out[i] = s * s
		}
		return out
	}
	var base float64
	if k.Median {
		var vals []float64
		for i, v := range d2 {
			if square && i/n == i%n {
				continue
			}
			vals = append(vals, v)
		}
		sort.Float64s(vals)
		if m := len(vals); m > 0 {
			base = vals[m/2]
			if m%2 == 0 {
				base = (vals[m/2-1] + vals[m/2]) / 2
			}
		}
	} else {
		for _, v := range d2 {
			base += v
		}
		base /= float64(len(d2))
	}
	if !(base > 0) {
		base = 1 // all samples coincide: any bandwidth gives MMD 0
	}
	mult := k.Multipliers
	if mult == nil {
		mult = DefaultMultipliers
	}
	out := make([]float64, len(mult))
	for i, m := range mult {
		out[i] = base * m
	}
	return out
}

// gaussians returns Σ_σ exp(−x/(2σ²)) and its derivative in x, using e as
// scratch. When each σ² is twice the one before (DAN's family, given in
// increasing order) one exp serves all: each term is the square of the next.
func gaussians(x float64, sig2, e []float64) (k, dk float64) {
	last := len(sig2) - 1
	e[last] = math.Exp(-x / (2 * sig2[last]))
	for i := last - 1; i >= 0; i-- {
		if sig2[i+1] == 2*sig2[i] {
			e[i] = e[i+1] * e[i+1]
		} else {
			e[i] = math.Exp(-x / (2 * sig2[i]))
		}
	}
	for i, v := range e {
		k += v
		dk -= v / (2 * sig2[i])
	}
	return k, dk
}

// gaussianSum returns Σ_σ exp(−d2/(2σ²)) elementwise.
func gaussianSum(d2 *tensor.Tensor, sig2 []float64) *tensor.Tensor {
	var k *tensor.Tensor
	for _, s2 := range sig2 {
		e := d2.Scale(float32(-1 / (2 * s2))).Exp()
		if k == nil {
			k = e
		} else {
			k = k.Add(e)
		}
	}
	return k
}

// mmdWeights returns the constant (Ns+Nt)² matrix W with MMD² = Σ W⊙K for
// the pooled kernel matrix K.
func mmdWeights(ns, nt int, unbiased bool) []float64 {
	n := ns + nt
	w := make([]float64, n*n)
	ss, tt := 1/float64(ns*ns), 1/float64(nt*nt)
	if unbiased {
		ss, tt = 1/float64(ns*(ns-1)), 1/float64(nt*(nt-1))
	}
	st := -1 / float64(ns*nt)
	for i := range n {
		for j := range n {
			var v float64
			switch {
			case i < ns && j < ns:
				v = ss
			case i >= ns && j >= ns:
				v = tt
			default:
				v = st
			}
			if unbiased && i == j {
				v = 0
			}
			w[i*n+j] = v
		}
	}
	return w
}

// kernelMMD returns Σ_ij W_ij Π_l K^l_ij for the pooled samples zs[l]
// (N, D_l) of each layer, K^l the sum of the layer's Gaussian kernels, as
// one differentiable operation computed in float64: with
// G_ij = ∂loss/∂d²_ij, the gradient of row i is 2 Σ_j (G_ij + G_ji)(z_i − z_j).
func kernelMMD(zs []*tensor.Tensor, ks []Kernels, w []float64) *tensor.Tensor {
	n := zs[0].Dim(0)
	L := len(zs)
	vals := make([][]float64, L)
	kern := make([][]float64, L)  // K^l
	dkern := make([][]float64, L) // ∂K^l/∂d²
	for l, z := range zs {
		d := z.Dim(1)
		v := z.Float64s()
		vals[l] = v
		d2 := make([]float64, n*n)
		for i := range n {
			zi := v[i*d : (i+1)*d]
			for j := i + 1; j < n; j++ {
				zj := v[j*d : (j+1)*d]
				var s float64
				for k, a := range zi {
					s += (a - zj[k]) * (a - zj[k])
				}
				d2[i*n+j], d2[j*n+i] = s, s
			}
		}
		sig2 := ks[l].sigmas2(d2, n, true)
		kl, dl := make([]float64, n*n), make([]float64, n*n)
		e := make([]float64, len(sig2))
		for i := range n {
			kl[i*n+i], dl[i*n+i] = gaussians(0, sig2, e)
			for j := i + 1; j < n; j++ {
				k, dk := gaussians(d2[i*n+j], sig2, e)
				kl[i*n+j], kl[j*n+i], dl[i*n+j], dl[j*n+i] = k, k, dk, dk
			}
		}
		kern[l], dkern[l] = kl, dl
	}
	var loss float64
	for i, wi := range w {
		p := wi
		for l := range L {
			p *= kern[l][i]
		}
		loss += p
	}
	return tensor.Custom("mmd", tensor.Scalar(float32(loss)), zs, func(g *tensor.Tensor) []*tensor.Tensor {
		up := float64(g.Item())
		grads := make([]*tensor.Tensor, L)
		s := make([]float64, n*n)
		for l, z := range zs {
			d := z.Dim(1)
			for i := range n {
				for j := i; j < n; j++ {
					a, b := i*n+j, j*n+i
					ga, gb := w[a]*dkern[l][a], w[b]*dkern[l][b]
					for m := range L {
						if m != l {
							ga *= kern[m][a]
							gb *= kern[m][b]
						}
					}
					s[a], s[b] = up*(ga+gb), up*(ga+gb)
				}
			}
			v := vals[l]
			sm := mat.NewDense(n, n, s)
			var sz mat.Dense
			sz.Mul(sm, mat.NewDense(n, d, v))
			gz := make([]float64, n*d)
			for i := range n {
				var rs float64
				for j := range n {
					rs += s[i*n+j]
				}
				for k := range d {
					gz[i*d+k] = 2 * (rs*v[i*d+k] - sz.At(i, k))
				}
			}
			grads[l] = tensor.FromFloat64(gz, n, d)
		}
		return grads
	})
}

// linearMMD is the linear-time estimator under the product of the layers'
// kernels. The heuristic bandwidths come from the squared distances of the
// four pairs each quad-tuple uses.
func linearMMD(xs, xt []*tensor.Tensor, ks []Kernels) *tensor.Tensor {
	m := min(xs[0].Dim(0), xt[0].Dim(0)) / 2
	even, odd := make([]int, m), make([]int, m)
	for i := range m {
		even[i], odd[i] = 2*i, 2*i+1
	}
	var h *tensor.Tensor
	terms := make([]*tensor.Tensor, 4) // k(x,x′), k(y,y′), k(x,y′), k(x′,y)
	for l := range xs {
		x, x2 := xs[l].IndexSelect(0, even), xs[l].IndexSelect(0, odd)
		y, y2 := xt[l].IndexSelect(0, even), xt[l].IndexSelect(0, odd)
		d := []*tensor.Tensor{pairSq(x, x2), pairSq(y, y2), pairSq(x, y2), pairSq(x2, y)}
		all := make([]float64, 0, 4*m)
		for _, di := range d {
			all = append(all, di.Float64s()...)
		}
		sig2 := ks[l].sigmas2(all, 0, false)
		for i, di := range d {
			kl := gaussianSum(di, sig2)
			if l == 0 {
				terms[i] = kl
			} else {
				terms[i] = terms[i].Mul(kl)
			}
		}
	}
	h = terms[0].Add(terms[1]).Sub(terms[2]).Sub(terms[3])
	return h.Mean()
}

// pairSq returns the squared distances ‖a_i − b_i‖² of matching rows.
func pairSq(a, b *tensor.Tensor) *tensor.Tensor {
	return a.Sub(b).Square().Sum(1)
}

// CORAL returns the Deep CORAL loss ‖C_s − C_t‖²_F / (4d²) between a source
// batch xs (Ns, d) and a target batch xt (Nt, d), C being the unbiased
// (n−1) covariance of each batch (Sun & Saenko 2016), as a differentiable
// scalar. At realistic widths the value is tiny (about 1e-7 at the start of
// training for d = 256), so it needs a large weight to act.
func CORAL(xs, xt *tensor.Tensor) (*tensor.Tensor, error) {
	ns, nt, err := checkBatches("da.CORAL", "xs", xs, xt)
	if err != nil {
		return nil, err
	}
	if ns < 2 || nt < 2 {
		return nil, fmt.Errorf("da.CORAL: a covariance needs at least 2 samples per domain, got %d source and %d target", ns, nt)
	}
	d := float64(xs.Dim(1))
	diff := covariance(xs).Sub(covariance(xt))
	return diff.Square().Sum().Scale(float32(1 / (4 * d * d))), nil
}

// covariance returns the unbiased (d, d) covariance of the rows of x.
func covariance(x *tensor.Tensor) *tensor.Tensor {
	c := x.Sub(x.MeanKeep(0))
	return c.MatMulT(c, true, false).Scale(float32(1 / float64(x.Dim(0)-1)))
}
