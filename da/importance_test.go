package da

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/nn/train"
	"github.com/graftml/graft/tensor"
	"gonum.org/v1/gonum/mat"
)

// shiftToy is a 1-D covariate shift: source x ~ N(0, 1.2²), target
// x ~ N(1.2, 0.4²), both labelled 1 when |x| < 1. A linear classifier
// cannot fit the rule everywhere; the source alone makes it predict the
// majority class, while the target needs the boundary at x = 1.
type shiftToy struct {
	xs, xt             *tensor.Tensor
	ys, yt             []int
	trueRatio          []float64 // p_t/p_s at each source point
	muS, sdS, muT, sdT float64
}

func newShiftToy(ns, nt int, seed uint64) shiftToy {
	toy := shiftToy{muS: 0, sdS: 1.2, muT: 1.2, sdT: 0.4}
	toy.xs = randn(seed, ns, 1, float32(toy.muS), float32(toy.sdS))
	toy.xt = randn(seed+1, nt, 1, float32(toy.muT), float32(toy.sdT))
	label := func(x *tensor.Tensor) []int {
		y := make([]int, x.Dim(0))
		for i, v := range x.Data() {
			if math.Abs(float64(v)) < 1 {
				y[i] = 1
			}
		}
		return y
	}
	toy.ys, toy.yt = label(toy.xs), label(toy.xt)
	pdf := func(x, mu, sd float64) float64 { return math.Exp(-(x-mu)*(x-mu)/(2*sd*sd)) / sd }
	for _, v := range toy.xs.Float64s() {
		toy.trueRatio = append(toy.trueRatio, pdf(v, toy.muT, toy.sdT)/pdf(v, toy.muS, toy.sdS))
	}
	return toy
}

// pearson returns the correlation of a and b.
func pearson(a, b []float64) float64 {
	n := float64(len(a))
	var ma, mb float64
	for i := range a {
		ma, mb = ma+a[i]/n, mb+b[i]/n
	}
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

var toyOnce struct {
	sync.Once
	toy     shiftToy
	weights map[string]*Weights
	err     error
}

// toyWeights returns the shift toy the importance tests share and the
// weights each estimator gives it, computed once.
func toyWeights(t *testing.T) (shiftToy, map[string]*Weights) {
	toyOnce.Do(func() {
		toy := newShiftToy(300, 300, 11)
		toyOnce.toy, toyOnce.weights = toy, map[string]*Weights{}
		for name, f := range map[string]func() (*Weights, error){
			"classifier": func() (*Weights, error) { return ClassifierRatio(toy.xs, toy.xt, RatioOptions{Quadratic: true}) },
			"KMM":        func() (*Weights, error) { return KMM(toy.xs, toy.xt, KMMOptions{}) },
			"KLIEP":      func() (*Weights, error) { return KLIEP(toy.xs, toy.xt, KLIEPOptions{Seed: 1}) },
		} {
			w, err := f()
			if err != nil {
				toyOnce.err = err
				return
			}
			toyOnce.weights[name] = w
		}
	})
	if toyOnce.err != nil {
		t.Fatal(toyOnce.err)
	}
	return toyOnce.toy, toyOnce.weights
}

func TestImportanceWeightsRecoverGaussianRatio(t *testing.T) {
	toy, ws := toyWeights(t)
	for name, w := range ws {
		r := pearson(w.Values, toy.trueRatio)
		t.Logf("%s: correlation with the true ratio %.3f; %v", name, r, w)
		if want := map[string]float64{"classifier": 0.98, "KMM": 0.93, "KLIEP": 0.98}[name]; r < want {
			t.Errorf("%s: correlation with the true density ratio %.3f, want ≥ %.2f", name, r, want)
		}
		if !w.Converged {
			t.Errorf("%s did not converge: %v", name, w)
		}
	}
}

func TestWeightedTrainingBeatsUnweighted(t *testing.T) {
	toy, ws := toyWeights(t)
	acc := func(w []float64) float64 {
		model := nn.NewLinear(1, 2, true, tensor.NewRNG(3))
		opt, err := optim.NewAdam(nn.Parameters(model), optim.AdamConfig{LR: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		ds, _ := train.NewLabelledDataset(toy.xs, toy.ys)
		_, err = train.Run(context.Background(), train.Config{Model: model, Optimizer: opt, Train: ds, BatchSize: 50, Epochs: 80, Shuffle: true, Seed: 4,
			Loss: func(b train.Batch) (*tensor.Tensor, error) {
				var bw []float64
				if w != nil {
					bw = (&Weights{Values: w}).At(b.Indices)
				}
				return WeightedCrossEntropy(model.Forward(b.X), b.Labels, bw)
			}})
		if err != nil {
			t.Fatal(err)
		}
		var a float64
		tensor.WithNoGrad(func() { a = float64(nn.Accuracy(model.Forward(toy.xt), toy.yt)) })
		return a
	}
	base := acc(nil)
	t.Logf("target accuracy of a linear classifier: unweighted %.3f", base)
	if base > 0.5 {
		t.Errorf("unweighted target accuracy %.3f: the toy should defeat the unweighted model", base)
	}
	for _, c := range []struct {
		name string
		w    []float64
	}{{"true ratio", toy.trueRatio}, {"KLIEP", ws["KLIEP"].Values}, {"KMM", ws["KMM"].Values}, {"classifier", ws["classifier"].Values}} {
		a := acc(c.w)
		t.Logf("  weighted by %s: %.3f", c.name, a)
		if a < 0.9 || a < base+0.5 {
			t.Errorf("weighted by %s: target accuracy %.3f, want ≥ 0.9 and ≥ unweighted %.3f + 0.5", c.name, a, base)
		}
	}
}

// bruteForceBoxSumQP minimises ½βᵀKβ − κᵀβ over 0 ≤ β ≤ B,
// lo ≤ Σβ ≤ hi by enumerating every active set (each β_i at 0, at B or
// free; the sum at lo, at hi or free) and keeping the best feasible
// stationary point — the global minimum of a convex QP is one of them.
func bruteForceBoxSumQP(K, kappa []float64, B, lo, hi float64) (best []float64, fbest float64) {
	n := len(kappa)
	fbest = math.Inf(1)
	codes := 1
	for range n {
		codes *= 3
	}
	for code := range codes {
		state := make([]int, n) // 0: at 0, 1: at B, 2: free
		for i, c := 0, code; i < n; i, c = i+1, c/3 {
			state[i] = c % 3
		}
		for sumState := range 3 { // 0: free, 1: at lo, 2: at hi
			beta := make([]float64, n)
			var free []int
			for i, st := range state {
				switch st {
				case 1:
					beta[i] = B
				case 2:
					free = append(free, i)
				}
			}
			m := len(free)
			if m == 0 && sumState != 0 {
				continue
			}
			if m > 0 {
				size := m
				if sumState != 0 {
					size++
				}
				A := mat.NewDense(size, size, nil)
				rhs := mat.NewVecDense(size, nil)
				var fixedSum float64
				for _, v := range beta {
					fixedSum += v
				}
				for a, i := range free {
					r := kappa[i]
					for j := range n {
						if state[j] != 2 {
							r -= K[i*n+j] * beta[j]
						}
					}
					rhs.SetVec(a, r)
					for b, j := range free {
						A.Set(a, b, K[i*n+j])
					}
					if sumState != 0 {
						A.Set(a, m, 1)
						A.Set(m, a, 1)
					}
				}
				if sumState != 0 {
					c := lo
					if sumState == 2 {
						c = hi
					}
					rhs.SetVec(m, c-fixedSum)
				}
				var sol mat.VecDense
				if err := sol.SolveVec(A, rhs); err != nil {
					continue
				}
				for a, i := range free {
					beta[i] = sol.AtVec(a)
				}
			}
			var sum float64
			ok := true
			for _, v := range beta {
				sum += v
				ok = ok && v >= -1e-12 && v <= B+1e-12
			}
			if !ok || sum < lo-1e-9 || sum > hi+1e-9 {
				continue
			}
			if f := qpObjective(K, kappa, beta); f < fbest {
				best, fbest = beta, f
			}
		}
	}
	return best, fbest
}

func TestKMMMatchesBruteForce(t *testing.T) {
	xs := col(-1, 0, 0.5, 2)
	xt := col(1.5, 2.2, 1.8)
	for _, c := range []struct {
		B, eps float64
	}{{2, 0.1}, {1.5, 0.5}, {10, 0.05}} {
		w, err := KMM(xs, xt, KMMOptions{Sigma: 0.7, B: c.B, Epsilon: c.eps, Tol: 1e-13})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := matrixOf("", "xs", xs)
		tt, _ := matrixOf("", "xt", xt)
		K, kt := gaussianGram(s, s, 0.7), gaussianGram(s, tt, 0.7)
		kappa := make([]float64, 4)
		for i := range 4 {
			for j := range 3 {
				kappa[i] += kt[i*3+j] * 4 / 3
			}
		}
		want, fwant := bruteForceBoxSumQP(K, kappa, c.B, 4*(1-c.eps), 4*(1+c.eps))
		if !w.Converged || math.Abs(w.Objective[0]-fwant) > 1e-9*math.Max(1, math.Abs(fwant)) {
			t.Errorf("B=%v ε=%v: KMM objective %.12g (converged %v), brute force %.12g", c.B, c.eps, w.Objective[0], w.Converged, fwant)
		}
		for i := range want {
			if math.Abs(w.Values[i]-want[i]) > 1e-5 {
				t.Errorf("B=%v ε=%v: β = %v, brute force %v", c.B, c.eps, w.Values, want)
				break
			}
		}
		t.Logf("B=%v ε=%v: β = %.4f (brute force %.4f), %d iterations", c.B, c.eps, w.Values, want, w.Iterations)
	}
}

func TestKLIEPAscendsWithinItsConstraints(t *testing.T) {
	toy := newShiftToy(120, 80, 31)
	w, err := KLIEP(toy.xs, toy.xt, KLIEPOptions{Centers: 40, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k < len(w.Objective); k++ {
		if w.Objective[k] < w.Objective[k-1] {
			t.Fatalf("objective fell at step %d: %v → %v", k, w.Objective[k-1], w.Objective[k])
		}
	}
	if first, last := w.Objective[0], w.Objective[len(w.Objective)-1]; last < first+0.05 {
		t.Errorf("objective rose only from %v to %v", first, last)
	}
	var mean float64
	for i, v := range w.Values {
		if v < 0 {
			t.Fatalf("w[%d] = %v < 0", i, v)
		}
		mean += v / float64(len(w.Values))
	}
	if math.Abs(mean-1) > 1e-9 {
		t.Errorf("mean source weight %v, want 1 (the constraint)", mean)
	}
}

func TestWeightedCrossEntropy(t *testing.T) {
	logits := tensor.New([]float32{0, 0, math.Ln2, 0}, 2, 2)
	// CE row 0 = ln 2, row 1 (label 1) = ln 3; weights 1 and 3.
	got, err := WeightedCrossEntropy(logits, []int{0, 1}, []float64{1, 3})
	want := (math.Ln2 + 3*math.Log(3)) / 4
	if err != nil || math.Abs(float64(got.Item())-want) > 1e-6 {
		t.Errorf("weighted CE = %v (%v), want %v", got, err, want)
	}
	x := randn(3, 6, 4, 0, 1).SetRequiresGrad(true)
	labels := []int{0, 3, 2, 1, 1, 0}
	plain, _ := WeightedCrossEntropy(x, labels, nil)
	if ref := nn.CrossEntropy(x, labels); math.Abs(float64(plain.Item()-ref.Item())) > 1e-6 {
		t.Errorf("unweighted %v, nn.CrossEntropy %v", plain.Item(), ref.Item())
	}
	w := []float64{0.5, 2, 0, 1, 3, 0.25}
	if err := tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor {
		v, _ := WeightedCrossEntropy(in[0], labels, w)
		return v
	}, []*tensor.Tensor{x}, tensor.GradCheckOptions{}); err != nil {
		t.Error(err)
	}
	ws := &Weights{Method: "test", Values: []float64{1, 1, 2, 0}}
	if ess := ws.ESS(); math.Abs(ess-16.0/6) > 1e-12 {
		t.Errorf("ESS = %v, want 16/6", ess)
	}
	if got := ws.At([]int{2, 0}); got[0] != 2 || got[1] != 1 {
		t.Errorf("At = %v", got)
	}
	b := ws.Display()
	if _, ok := b.Data["image/png"]; !ok || !strings.Contains(b.Text(), "effective sample size 2.7 (67%)") {
		t.Errorf("display: %q, types %d", b.Text(), len(b.Data))
	}
}

func TestImportanceBadInput(t *testing.T) {
	a, b := randn(1, 5, 2, 0, 1), randn(2, 4, 3, 0, 1)
	logits := randn(3, 2, 3, 0, 1)
	nan := tensor.New([]float32{1, float32(math.NaN())}, 2, 1)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"widths", errOf(ClassifierRatio(a, b, RatioOptions{})), "source width 2"},
		{"empty", errOf(KMM(a, tensor.Zeros(0, 2), KMMOptions{})), "xt is empty (0 rows)"},
		{"NaN", errOf(KLIEP(nan, nan, KLIEPOptions{})), "xs[1,0] is NaN"},
		{"centres", errOf(KLIEP(a, a, KLIEPOptions{Centers: 9})), "Centers = 9, but the target has only 5 rows"},
		{"sigma", errOf(KMM(a, a, KMMOptions{Sigma: -1})), "Sigma = -1"},
		{"B", errOf(KMM(a, a, KMMOptions{B: 0.5, Epsilon: 0.1})), "B = 0.5 cannot reach the mean weight 1−ε = 0.9"},
		{"labels", second(WeightedCrossEntropy(logits, []int{0}, nil)), "1 labels for 2 rows"},
		{"label range", second(WeightedCrossEntropy(logits, []int{0, 3}, nil)), "labels[1] = 3"},
		{"weight", second(WeightedCrossEntropy(logits, []int{0, 1}, []float64{1, -2})), "w[1] = -2"},
		{"zero weights", second(WeightedCrossEntropy(logits, []int{0, 1}, []float64{0, 0})), "sum to 0"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}

// errOf returns the error of a (weights, error) pair.
func errOf(_ *Weights, err error) error { return err }
