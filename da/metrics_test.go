package da

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/graftml/graft/tensor"
)

// orthogonal returns a seeded random d×d orthogonal matrix.
func orthogonal(seed uint64, d int) *tensor.Tensor {
	a := mat.NewDense(d, d, randn(seed, d, d, 0, 1).Float64s())
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	return tensor.FromFloat64(q.RawMatrix().Data, d, d)
}

func TestCKAInvariances(t *testing.T) {
	x := randn(1, 40, 6, 0.3, 1)
	moved := x.MatMul(orthogonal(2, 6)).Scale(3.5)
	for _, opt := range []CKAOptions{{}, {Kernel: RBFKernel}, {Kernel: RBFKernel, Threshold: 0.5}, {Debiased: true}, {Kernel: RBFKernel, Debiased: true}} {
		got, err := CKA(x, moved, opt)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-1) > 1e-5 {
			t.Errorf("%+v: CKA(X, 3.5·XQ) = %.8f, want 1", opt, got)
		}
		self, _ := CKA(x, x, opt)
		if math.Abs(self-1) > 1e-12 {
			t.Errorf("%+v: CKA(X, X) = %v", opt, self)
		}
	}
	// Linear CKA: the Gram form equals the feature-space form
	// ‖YᵀX‖²_F/(‖XᵀX‖_F‖YᵀY‖_F) on centred features.
	y := randn(3, 40, 4, 0, 1).Add(x.Slice(1, 0, 4).Scale(0.7))
	got, err := LinearCKA(x, y)
	if err != nil {
		t.Fatal(err)
	}
	centre := func(a *tensor.Tensor) *mat.Dense {
		n, d := a.Dim(0), a.Dim(1)
		c := mat.NewDense(n, d, a.Float64s())
		for j := range d {
			m := mat.Sum(c.ColView(j)) / float64(n)
			for i := range n {
				c.Set(i, j, c.At(i, j)-m)
			}
		}
		return c
	}
	X, Y := centre(x), centre(y)
	var yx, xx, yy mat.Dense
	yx.Mul(Y.T(), X)
	xx.Mul(X.T(), X)
	yy.Mul(Y.T(), Y)
	fro := func(m *mat.Dense) float64 { return mat.Norm(m, 2) }
	want := fro(&yx) * fro(&yx) / (fro(&xx) * fro(&yy))
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("linear CKA %v, feature-space formula %v", got, want)
	}
	if got < 0.3 || got > 0.95 {
		t.Errorf("linear CKA of partly related features %v, want between", got)
	}
	unrelated, _ := LinearCKA(randn(4, 500, 3, 0, 1), randn(5, 500, 3, 0, 1))
	if unrelated > 0.05 {
		t.Errorf("linear CKA of independent features %v, want ≈ 0", unrelated)
	}
}

func TestCKAMatchesNumpy(t *testing.T) {
	x := randn(7, 30, 8, 0, 1)
	y := randn(8, 30, 5, 0, 1).Add(x.Slice(1, 0, 5).Square())
	opts := []CKAOptions{{}, {Kernel: RBFKernel}, {Kernel: RBFKernel, Threshold: 0.6}, {Debiased: true}, {Kernel: RBFKernel, Threshold: 2, Debiased: true}}
	var calls []discCall
	var got []float64
	for _, o := range opts {
		v, err := CKA(x, y, o)
		if err != nil {
			t.Fatal(err)
		}
		kernel, th := o.Kernel, o.Threshold
		if kernel == "" {
			kernel = LinearKernel
		}
		if th == 0 {
			th = 1
		}
		calls = append(calls, discCall{"cka", map[string]any{"x": rowsOf(x), "y": rowsOf(y), "kernel": kernel, "threshold": th, "debiased": o.Debiased}})
		got = append(got, v)
	}
	want := runDiscRef(t, []string{"numpy"}, calls)
	for i, o := range opts {
		if math.Abs(got[i]-want[i]) > 1e-10 {
			t.Errorf("%+v: graft %.12f, numpy %.12f", o, got[i], want[i])
		}
	}
}

func TestProxyADistance(t *testing.T) {
	same, err := ProxyADistance(randn(1, 300, 5, 0, 1), randn(2, 300, 5, 0, 1), PADOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	apart, err := ProxyADistance(randn(3, 300, 5, 0, 1), randn(4, 300, 5, 4, 1), PADOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("identical: %v; separated: %v", same, apart)
	if math.Abs(same.PAD) > 0.3 {
		t.Errorf("identical distributions: PAD %v, want ≈ 0", same.PAD)
	}
	if apart.PAD < 1.95 || apart.Test != 300 || apart.Train != 300 {
		t.Errorf("separated distributions: %v, want PAD ≈ 2 on 300 held-out rows", apart)
	}
	if _, err := ProxyADistance(randn(1, 1, 2, 0, 1), randn(2, 5, 2, 0, 1), PADOptions{}); err == nil || !strings.Contains(err.Error(), "fs has 1 rows") {
		t.Errorf("one source row: %v", err)
	}
}

func TestCalibrationByHand(t *testing.T) {
	// Four predictions, 2 bins of width 0.5: confidences 0.9, 0.8 (bin 2,
	// one right: acc 0.5, conf 0.85), 0.6 (bin 2 too), 0.5 (bin 1, right).
	p := tensor.New([]float32{
		0.9, 0.1,
		0.2, 0.8,
		0.6, 0.4,
		0.5, 0.5,
	}, 4, 2)
	c, err := CalibrationError(p, []int{0, 0, 1, 0}, CalibrationOptions{Bins: 2, Probabilities: true})
	if err != nil {
		t.Fatal(err)
	}
	// bin (0.5,1]: 0.9 ✓, 0.8 ✗, 0.6 ✗ → acc 1/3, conf 2.3/3; bin (0,0.5]: 0.5 ✓ → acc 1, conf 0.5.
	want := 3.0/4*math.Abs(1.0/3-2.3/3) + 1.0/4*0.5
	if math.Abs(c.ECE-want) > 1e-6 || math.Abs(c.MCE-0.5) > 1e-6 || c.Bins[1].Count != 3 || c.Bins[0].Count != 1 {
		t.Errorf("ECE %v (want %v), MCE %v, bins %+v", c.ECE, want, c.MCE, c.Bins)
	}
	// Logits go through a softmax: logits (ln 3, 0) give confidence 0.75.
	l, err := CalibrationError(tensor.New([]float32{float32(math.Log(3)), 0}, 1, 2), []int{0}, CalibrationOptions{})
	if err != nil || math.Abs(l.ECE-0.25) > 1e-6 || l.Bins[11].Count != 1 {
		t.Errorf("logits: %v (%v)", l, err)
	}
	b := c.Display()
	if _, ok := b.Data["image/png"]; !ok || !strings.Contains(b.Text(), "ECE 0.") {
		t.Errorf("display %q", b.Text())
	}
	if _, err := CalibrationError(p, []int{0, 5, 1, 0}, CalibrationOptions{}); err == nil || !strings.Contains(err.Error(), "labels[1] = 5") {
		t.Errorf("bad label: %v", err)
	}
}

func TestAccuracyTable(t *testing.T) {
	at := NewDomainAccuracies()
	logits := tensor.New([]float32{1, 0, 0, 1, 1, 0}, 3, 2)
	if err := at.AddLogits("source only", "target", logits, []int{0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	_ = at.Add("source only", "source", 9, 10)
	_ = at.Add("DANN", "target", 4, 5)
	if a := at.Accuracy("source only", "target"); math.Abs(a-2.0/3) > 1e-12 {
		t.Errorf("accuracy %v, want 2/3", a)
	}
	s := at.String()
	for _, want := range []string{"method", "target", "source", "DANN", "0.6667", "0.8", "0.9"} {
		if !strings.Contains(s, want) {
			t.Errorf("table misses %q:\n%s", want, s)
		}
	}
	if err := at.Add("x", "y", 3, 2); err == nil {
		t.Error("3 correct of 2 accepted")
	}
}

func TestCKABadInput(t *testing.T) {
	x := randn(1, 5, 2, 0, 1)
	for _, c := range []struct {
		err  error
		want string
	}{
		{second2(CKA(x, randn(2, 4, 2, 0, 1), CKAOptions{})), "x has 5 rows and y 4"},
		{second2(CKA(x.Slice(0, 0, 3), x.Slice(0, 0, 3), CKAOptions{Debiased: true})), "3 examples, want at least 4"},
		{second2(CKA(x, x, CKAOptions{Kernel: "poly"})), `Kernel "poly"`},
		{second2(CKA(x, tensor.Ones(5, 2), CKAOptions{})), "constant"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", c.err, c.want)
		}
	}
}

func second2(_ float64, err error) error { return err }
