package tta_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/da/tta"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// TestAlphaBNByHand computes α-BN's logits by hand: the hidden layer is
// normalised with μ = αμ_src + (1−α)μ_batch and σ² likewise (biased batch
// variance); α = 1 is the source model.
func TestAlphaBNByHand(t *testing.T) {
	src := bnModel(t, 3)
	x := tensor.Randn(tensor.NewRNG(4), 6, 4).AddScalar(1)
	l0, bn, l3 := src.Layers[0].(*nn.Linear), src.Layers[1].(*nn.BatchNorm), src.Layers[3].(*nn.Linear)
	h := tensor.Linear(x, l0.Weight, l0.Bias).Float64s()
	for _, alpha := range []float64{0.3, 1} {
		m, err := tta.NewBN(src, tta.BNOptions{Alpha: alpha})
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Adapt(x)
		if err != nil {
			t.Fatal(err)
		}
		n, c := 6, 5
		a := make([]float64, n*c)
		for j := 0; j < c; j++ {
			var mu, v float64
			for i := 0; i < n; i++ {
				mu += h[i*c+j] / float64(n)
			}
			for i := 0; i < n; i++ {
				v += (h[i*c+j] - mu) * (h[i*c+j] - mu) / float64(n)
			}
			mu = alpha*float64(bn.RunningMean.Data()[j]) + (1-alpha)*mu
			v = alpha*float64(bn.RunningVar.Data()[j]) + (1-alpha)*v
			for i := 0; i < n; i++ {
				y := (h[i*c+j]-mu)/math.Sqrt(v+1e-5)*float64(bn.Weight.Data()[j]) + float64(bn.Bias.Data()[j])
				a[i*c+j] = math.Max(y, 0)
			}
		}
		want := tensor.Linear(tensor.FromFloat64(a, n, c), l3.Weight, l3.Bias).Float64s()
		near(t, "α-BN logits", got.Data(), want, 1e-5)
		if alpha == 1 {
			near(t, "α-BN (α=1) vs source", got.Data(), src.Forward(x).Float64s(), 1e-5)
		}
	}
}

// TestInfoMaxLoss checks SHOT's loss by hand and its gradient by finite
// differences.
func TestInfoMaxLoss(t *testing.T) {
	logits := tensor.New([]float32{1, 0, -1, 0.5, 0.5, 2}, 2, 3)
	p := logits.Softmax(1).Float64s()
	var ent float64
	pbar := make([]float64, 3)
	for i := 0; i < 2; i++ {
		for k := 0; k < 3; k++ {
			ent -= p[i*3+k] * math.Log(p[i*3+k]) / 2
			pbar[k] += p[i*3+k] / 2
		}
	}
	want := ent
	for _, q := range pbar {
		want += q * math.Log(q+1e-5)
	}
	if got := float64(tta.InfoMaxLoss(logits).Item()); math.Abs(got-want) > 1e-6 {
		t.Errorf("InfoMaxLoss = %.8f, by hand %.8f", got, want)
	}
	x := tensor.Randn(tensor.NewRNG(1), 5, 4).SetRequiresGrad(true)
	if err := tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor { return tta.InfoMaxLoss(in[0]) }, []*tensor.Tensor{x}, tensor.GradCheckOptions{}); err != nil {
		t.Error(err)
	}
}

// TestPseudoLabels checks SHOT's centroid labels on a case worked by hand:
// the prediction of row 2 is wrong, but its feature lies with class 0's.
func TestPseudoLabels(t *testing.T) {
	f := tensor.New([]float32{
		3, 0, // class 0
		2.5, 0.2, // class 0
		2.8, -0.1, // predicted 1, but near class 0
		0, 3, // class 1
		-0.2, 2.6, // class 1
	}, 5, 2)
	p := tensor.New([]float32{0.9, 0.1, 0.8, 0.2, 0.4, 0.6, 0.1, 0.9, 0.2, 0.8}, 5, 2)
	for rounds := 0; rounds <= 2; rounds++ {
		got, err := tta.PseudoLabels(f, p, rounds)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{0, 0, 0, 1, 1}; !slices.Equal(got, want) {
			t.Errorf("rounds %d: labels %v, want %v", rounds, got, want)
		}
	}
	// A class no row predicts is never a label.
	p3 := tensor.New([]float32{0.5, 0.1, 0.4, 0.5, 0.1, 0.4, 0.5, 0.1, 0.4, 0.1, 0.5, 0.4, 0.1, 0.5, 0.4}, 5, 3)
	got, _ := tta.PseudoLabels(f, p3, 1)
	for _, l := range got {
		if l == 2 {
			t.Errorf("labels %v use class 2, which no row predicts", got)
		}
	}
	if _, err := tta.PseudoLabels(f, tensor.Zeros(4, 2), 1); err == nil || !strings.Contains(err.Error(), "(4,2)") {
		t.Errorf("mismatched rows: error %v", err)
	}
}

// TestEMAAndRestore checks CoTTA's teacher update and stochastic restore by hand.
func TestEMAAndRestore(t *testing.T) {
	teacher := []*tensor.Tensor{tensor.New([]float32{1, 2}, 2), tensor.New([]float32{-4}, 1)}
	student := []*tensor.Tensor{tensor.New([]float32{3, 6}, 2), tensor.New([]float32{4}, 1)}
	if err := tta.EMAUpdate(teacher, student, 0.75); err != nil {
		t.Fatal(err)
	}
	near(t, "EMA teacher", append(teacher[0].Data(), teacher[1].Data()...), []float64{1.5, 3, -2}, 1e-7)
	near(t, "EMA leaves the student", append(student[0].Data(), student[1].Data()...), []float64{3, 6, 4}, 0)

	source := []*tensor.Tensor{tensor.New([]float32{0, 0, 0, 0, 0, 0, 0, 0}, 8)}
	params := func() []*tensor.Tensor { return []*tensor.Tensor{tensor.New([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 8)} }
	ps := params()
	if err := tta.StochasticRestore(ps, source, 1, tensor.NewRNG(1)); err != nil {
		t.Fatal(err)
	}
	near(t, "restore p=1", ps[0].Data(), make([]float64, 8), 0)
	ps = params()
	_ = tta.StochasticRestore(ps, source, 0, tensor.NewRNG(1))
	near(t, "restore p=0", ps[0].Data(), []float64{1, 2, 3, 4, 5, 6, 7, 8}, 0)
	// p = 0.5: element j is restored exactly when the j-th uniform draw is below 0.5.
	ps = params()
	_ = tta.StochasticRestore(ps, source, 0.5, tensor.NewRNG(9))
	r := tensor.NewRNG(9)
	want := make([]float64, 8)
	restored := 0
	for j := range want {
		if r.Float64() >= 0.5 {
			want[j] = float64(j + 1)
		} else {
			restored++
		}
	}
	near(t, "restore p=0.5", ps[0].Data(), want, 0)
	if restored == 0 || restored == 8 {
		t.Errorf("seed 9 restores %d of 8; pick a seed that tests both outcomes", restored)
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if err := tta.StochasticRestore(ps, source, bad, r); err == nil || !strings.Contains(err.Error(), "probability") {
			t.Errorf("p = %g: error %v", bad, err)
		}
		if err := tta.EMAUpdate(teacher, student, bad); err == nil || !strings.Contains(err.Error(), "alpha") {
			t.Errorf("α = %g: error %v", bad, err)
		}
	}
	if err := tta.EMAUpdate(teacher, student[:1], 0.5); err == nil {
		t.Error("EMAUpdate accepted lists of different lengths")
	}
}

// TestLAMEByHand checks LAME's iterations on three samples: one iteration by
// hand, the converged z a fixed point of zᵢ ∝ pᵢ ⊙ exp(Σⱼ wᵢⱼ zⱼ), no
// affinity leaving p as it is, and the kNN affinity.
func TestLAMEByHand(t *testing.T) {
	p := tensor.New([]float32{0.7, 0.3, 0.4, 0.6, 0.2, 0.8}, 3, 2)
	w := tensor.New([]float32{0, 1, 0, 1, 0, 0.2, 0, 0.2, 0}, 3, 3)
	pd, wd := p.Float64s(), w.Float64s()
	step := func(z []float64) []float64 {
		out := make([]float64, 6)
		for i := 0; i < 3; i++ {
			var s float64
			for c := 0; c < 2; c++ {
				var a float64
				for j := 0; j < 3; j++ {
					a += wd[i*3+j] * z[j*2+c]
				}
				out[i*2+c] = (pd[i*2+c] + 1e-10) * math.Exp(a)
				s += out[i*2+c]
			}
			out[i*2] /= s
			out[i*2+1] /= s
		}
		return out
	}
	z1, it, err := tta.LaplacianAdjust(p, w, 1)
	if err != nil || it != 1 {
		t.Fatal(err, it)
	}
	near(t, "LAME one iteration", z1.Data(), step(pd), 1e-6)
	z, it, err := tta.LaplacianAdjust(p, w, 100)
	if err != nil {
		t.Fatal(err)
	}
	if it >= 100 {
		t.Errorf("LAME ran %d iterations without converging", it)
	}
	near(t, "LAME fixed point", z.Data(), step(z.Float64s()), 1e-5)
	// Row 1 (0.4, 0.6) is pulled towards its neighbour row 0's class.
	if z.At(1, 0) <= 0.4 {
		t.Errorf("z[1] = %v: the neighbour favouring class 0 should raise it above 0.4", z.Data()[2:4])
	}
	z0, _, _ := tta.LaplacianAdjust(p, tensor.Zeros(3, 3), 100)
	near(t, "LAME without affinity", z0.Data(), pd, 1e-6)

	f := tensor.New([]float32{0, 0, 1, 0, 5, 0, 6, 0}, 4, 2)
	a, err := tta.KNNAffinity(f, 1)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "1-NN affinity", a.Data(), []float64{0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0}, 0)
	a2, _ := tta.KNNAffinity(f, 2)
	// Row 1's two nearest are 0 and 2; row 2's are 3 and 1; so W₁₂ = (1+1)/2, W₀₂ = (1+0)/2.
	if a2.At(1, 2) != 1 || a2.At(0, 2) != 0.5 || a2.At(2, 0) != 0.5 {
		t.Errorf("2-NN affinity %v", a2.Data())
	}
	if _, err := tta.KNNAffinity(f, 0); err == nil {
		t.Error("KNNAffinity accepted k = 0")
	}
	if _, _, err := tta.LaplacianAdjust(p, tensor.Zeros(2, 2), 10); err == nil {
		t.Error("LaplacianAdjust accepted a 2×2 affinity for 3 rows")
	}
}

// methods returns one of each method on src, set to adapt fast.
func methods(t testing.TB, src models.Classifier) []tta.Method {
	t.Helper()
	return methodSet(t, src, methodOptions{
		tent:  tta.TentOptions{Optim: tta.Optim{LR: 0.05, Steps: 2}},
		shot:  tta.SHOTOptions{Optim: tta.Optim{LR: 0.05}},
		cotta: tta.CoTTAOptions{Optim: tta.Optim{LR: 0.05}, EMA: 0.5, RestoreProb: 0.1, Augmentations: 3, Threshold: 2},
		lame:  tta.LAMEOptions{K: 2},
	})
}

// methodOptions are the settings methodSet gives the methods that take any
// beyond the batch-norm ones.
type methodOptions struct {
	tent  tta.TentOptions
	shot  tta.SHOTOptions
	cotta tta.CoTTAOptions
	lame  tta.LAMEOptions
}

// methodSet returns one of each method on src (batch norm twice: with and
// without a source prior), the gradient and LAME methods set by o.
func methodSet(t testing.TB, src models.Classifier, o methodOptions) []tta.Method {
	t.Helper()
	var ms []tta.Method
	add := func(m tta.Method, err error) {
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	add(tta.NewSource(src))
	add(tta.NewBN(src, tta.BNOptions{}))
	add(tta.NewBN(src, tta.BNOptions{Alpha: 0.5}))
	add(tta.NewAdaBN(src))
	add(tta.NewTent(src, o.tent))
	add(tta.NewSHOT(src, o.shot))
	add(tta.NewCoTTA(src, o.cotta))
	add(tta.NewLAME(src, o.lame))
	return ms
}

// stateOf copies the values of every parameter and buffer of m.
func stateOf(m nn.Module) map[string][]float32 {
	out := map[string][]float32{}
	for _, e := range nn.StateDict(m) {
		out[e.Name] = append([]float32(nil), e.Tensor.Data()...)
	}
	return out
}

// TestSourceUntouchedAndReset runs every method on a few batches: the source
// model never changes, the methods that learn do change their copy, Reset
// brings the copy back to the source state, and an episodic run gives each
// batch the result a fresh method gives it.
func TestSourceUntouchedAndReset(t *testing.T) {
	src := bnModel(t, 11)
	nn.Train(src) // even a source left in training mode is not touched
	before := stateOf(src)
	r := tensor.NewRNG(12)
	xs := []*tensor.Tensor{tensor.Randn(r, 8, 4), tensor.Randn(r, 8, 4).AddScalar(2), tensor.Randn(r, 8, 4).Scale(3)}
	for _, m := range methods(t, src) {
		for _, x := range xs {
			out, err := m.Adapt(x)
			if err != nil {
				t.Fatalf("%s: %v", m.Name(), err)
			}
			if out.Dim(0) != 8 || out.Dim(1) != 3 {
				t.Fatalf("%s: output %v", m.Name(), out.Shape())
			}
		}
		for k, v := range stateOf(src) {
			if !slices.Equal(v, before[k]) {
				t.Errorf("%s changed the source model's %s", m.Name(), k)
			}
		}
		copyOf := m.(interface{ Model() models.Classifier }).Model()
		changed := false
		for k, v := range stateOf(copyOf) {
			changed = changed || !slices.Equal(v, before[k])
		}
		learns := map[string]bool{"AdaBN": true, "Tent": true, "SHOT": true, "CoTTA": true}[m.Name()]
		if changed != learns {
			t.Errorf("%s: its copy changed = %v, want %v", m.Name(), changed, learns)
		}
		if err := m.Reset(); err != nil {
			t.Fatal(err)
		}
		for k, v := range stateOf(copyOf) {
			if !slices.Equal(v, before[k]) {
				t.Errorf("%s: after Reset, %s differs from the source", m.Name(), k)
			}
		}
	}
	// Episodic: batch i's result is what a fresh Tent gives on batch i alone.
	s := &tta.Stream{Name: "s", Corruptions: []string{"a"}}
	for _, x := range xs {
		s.Batches = append(s.Batches, tta.StreamBatch{X: x, Labels: make([]int, 8), Corruption: "a"})
	}
	tent, _ := tta.NewTent(src, tta.TentOptions{Optim: tta.Optim{LR: 0.05, Steps: 3}})
	res, err := tta.Evaluate(tent, s, tta.Episodic)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		fresh, _ := tta.NewTent(src, tta.TentOptions{Optim: tta.Optim{LR: 0.05, Steps: 3}})
		out, _ := fresh.Adapt(x)
		acc := 0.0
		for _, p := range out.Argmax(1).Ints() {
			if p == 0 {
				acc += 1.0 / 8
			}
		}
		if res.BatchAccuracy[i] != acc {
			t.Errorf("episodic batch %d: accuracy %g, a fresh Tent %g", i, res.BatchAccuracy[i], acc)
		}
	}
}

// TestErrors checks that bad input gives errors naming the problem.
func TestErrors(t *testing.T) {
	src := bnModel(t, 1)
	plain, _ := models.NewMLP(models.MLPConfig{Inputs: 4, Hidden: []int{5}, Classes: 3}, tensor.NewRNG(1))
	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", what, err, want)
		}
	}
	_, err := tta.NewTent(plain, tta.TentOptions{})
	check("Tent without batch norm", err, "*models.MLP has no BatchNorm")
	_, err = tta.NewBN(plain, tta.BNOptions{})
	check("BN without batch norm", err, "no BatchNorm")
	_, err = tta.NewAdaBN(plain)
	check("AdaBN without batch norm", err, "no BatchNorm")
	for _, a := range []float64{-0.5, 1.5, math.NaN()} {
		_, err = tta.NewBN(src, tta.BNOptions{Alpha: a})
		check("bad α", err, "alpha")
	}
	_, err = tta.NewCoTTA(src, tta.CoTTAOptions{RestoreProb: 2})
	check("bad p", err, "restore probability 2")
	_, err = tta.NewCoTTA(src, tta.CoTTAOptions{EMA: 1.2})
	check("bad EMA", err, "EMA momentum 1.2")
	_, err = tta.NewTent(src, tta.TentOptions{Optim: tta.Optim{Name: "rmsprop"}})
	check("bad optimiser", err, `"rmsprop"`)
	_, err = tta.NewLAME(src, tta.LAMEOptions{K: -1})
	check("bad k", err, "k -1")
	for _, m := range methods(t, src) {
		_, err = m.Adapt(tensor.Zeros(0, 4))
		check(m.Name()+" empty batch", err, "empty (0 rows)")
	}
	tent, _ := tta.NewTent(src, tta.TentOptions{})
	_, err = tent.Adapt(tensor.Zeros(1, 4))
	check("Tent on one row", err, "at least 2")
	// Methods that do not need batch norm work on a model without it.
	for _, mk := range []func() (tta.Method, error){
		func() (tta.Method, error) { return tta.NewSHOT(plain, tta.SHOTOptions{}) },
		func() (tta.Method, error) { return tta.NewCoTTA(plain, tta.CoTTAOptions{Augmentations: 2}) },
		func() (tta.Method, error) { return tta.NewLAME(plain, tta.LAMEOptions{}) },
	} {
		m, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Adapt(tensor.Randn(tensor.NewRNG(2), 4, 4)); err != nil {
			t.Errorf("%s without batch norm: %v", m.Name(), err)
		}
	}
	_, err = tta.AdaptBN(src)
	check("AdaptBN without batches", err, "no target batches")
}

// TestCopyModel checks that a copy is independent and keeps tied tensors tied.
func TestCopyModel(t *testing.T) {
	src := bnModel(t, 5)
	c, err := tta.CopyModel(src)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.Randn(tensor.NewRNG(6), 3, 4)
	near(t, "copy's logits", c.Forward(x).Data(), src.Forward(x).Float64s(), 0)
	param(t, c, "0.weight").Data()[0] += 1
	if param(t, src, "0.weight").Data()[0] == param(t, c, "0.weight").Data()[0] {
		t.Error("changing the copy changed the source")
	}
	// Tie the two Linear layers' biases through a shared module.
	tied, _ := models.NewMLP(models.MLPConfig{Inputs: 3, Hidden: []int{3}, Classes: 3}, tensor.NewRNG(1))
	tied.Layers[2] = tied.Layers[0]
	ct, _ := tta.CopyModel(tied)
	cl := ct.(*models.MLP).Layers
	if cl[0] != cl[2] || cl[0] == tied.Layers[0] {
		t.Error("a shared module is not shared in the copy, or not copied")
	}
}

// TestCoTTAStep checks one CoTTA step on a model: the teacher is the EMA of
// the source and the updated student, taken before the restore; with p = 1
// the student returns to the source entirely, with p < 0 it keeps its step.
func TestCoTTAStep(t *testing.T) {
	src := bnModel(t, 21)
	x := tensor.Randn(tensor.NewRNG(22), 8, 4)
	before := stateOf(src)
	for _, p := range []float64{-1, 1} {
		c, err := tta.NewCoTTA(src, tta.CoTTAOptions{Optim: tta.Optim{LR: 0.1}, EMA: 0.75, RestoreProb: p, Augmentations: 4, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		// Run the student's step alone on a twin to learn where it goes.
		twin, _ := tta.NewCoTTA(src, tta.CoTTAOptions{Optim: tta.Optim{LR: 0.1}, EMA: 0.75, RestoreProb: -1, Augmentations: 4, Seed: 3})
		if _, err := twin.Adapt(x); err != nil {
			t.Fatal(err)
		}
		stepped := stateOf(twin.Model())
		if _, err := c.Adapt(x); err != nil {
			t.Fatal(err)
		}
		student, teacher := stateOf(c.Model()), stateOf(c.Teacher())
		for _, e := range nn.NamedParameters(src) {
			k := e.Name
			want := make([]float64, len(before[k]))
			for i := range want {
				want[i] = 0.75*float64(before[k][i]) + 0.25*float64(stepped[k][i])
			}
			near(t, "teacher "+k, teacher[k], want, 1e-6)
			restored := before[k]
			if p < 0 {
				restored = stepped[k]
			}
			if !slices.Equal(student[k], restored) {
				t.Errorf("p = %g: student %s = %v, want %v", p, k, student[k], restored)
			}
		}
		if slices.Equal(stepped["0.weight"], before["0.weight"]) {
			t.Error("the student's step changed nothing")
		}
	}
}
