package da

import (
	"fmt"
	"math"
	"sort"

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
	// 2⌊min(Ns,Nt)/2⌋ samples of each domain, so at least two per domain.
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
		a, b, err := checkPair(fn, name, xs[l], xt[l])
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
	var k *tensor.Tensor
	for l := range xs {
		z := tensor.Concat(0, xs[l], xt[l])
		d2 := sqDistances(z)
		kl := gaussianSum(d2, ks[l].sigmas2(d2.Detach().Data(), ns+nt, true))
		if k == nil {
			k = kl
		} else {
			k = k.Mul(kl)
		}
	}
	return k.Mul(mmdWeights(ns, nt, est == Unbiased)).Sum(), nil
}

// checkPair checks that xs and xt are non-empty matrices of the same width
// and returns their numbers of rows.
func checkPair(fn, name string, xs, xt *tensor.Tensor) (ns, nt int, err error) {
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
func (k Kernels) sigmas2(d2 []float32, n int, square bool) []float64 {
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
			vals = append(vals, float64(v))
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
			base += float64(v)
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

// sqDistances returns the (N, N) squared Euclidean distances between the
// rows of z, differentiably, clamped at 0 against rounding.
func sqDistances(z *tensor.Tensor) *tensor.Tensor {
	sq := z.Square().SumKeep(1) // (N,1)
	gram := z.MatMulT(z, false, true)
	return sq.Add(sq.T()).Sub(gram.Scale(2)).Clamp(0, float32(math.Inf(1)))
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
func mmdWeights(ns, nt int, unbiased bool) *tensor.Tensor {
	n := ns + nt
	w := make([]float32, n*n)
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
			w[i*n+j] = float32(v)
		}
	}
	return tensor.New(w, n, n)
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
		all := make([]float32, 0, 4*m)
		for _, di := range d {
			all = append(all, di.Detach().Data()...)
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
	ns, nt, err := checkPair("da.CORAL", "xs", xs, xt)
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
