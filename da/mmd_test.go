package da

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

func col(v ...float32) *tensor.Tensor { return tensor.New(v, len(v), 1) }

func TestMMDByHand(t *testing.T) {
	e := func(x float64) float64 { return math.Exp(x) }
	one := Kernels{Sigmas: []float64{1}}
	cases := []struct {
		name   string
		xs, xt *tensor.Tensor
		opt    MMDOptions
		want   float64
	}{
		{"biased σ=1", col(0), col(1), MMDOptions{Kernels: one}, 2 - 2*e(-0.5)},
		{"mean heuristic", col(0), col(1), MMDOptions{Kernels: Kernels{Multipliers: []float64{1}}}, 2 - 2*e(-1)},
		{"median heuristic", col(0), col(1), MMDOptions{Kernels: Kernels{Multipliers: []float64{1}, Median: true}}, 2 - 2*e(-0.5)},
		{"two kernels", col(0), col(1), MMDOptions{Kernels: Kernels{Sigmas: []float64{1, 2}}}, 2*2 - 2*(e(-0.5)+e(-0.125))},
		{"unbiased", col(0, 1), col(2, 3), MMDOptions{Estimator: Unbiased, Kernels: one},
			2*e(-0.5) - 2*(2*e(-2)+e(-4.5)+e(-0.5))/4},
		{"linear", col(0, 1), col(2, 3), MMDOptions{Estimator: Linear, Kernels: one}, e(-0.5) - e(-4.5)},
		{"linear drops the odd sample", col(0, 1, 7), col(2, 3), MMDOptions{Estimator: Linear, Kernels: one}, e(-0.5) - e(-4.5)},
	}
	for _, c := range cases {
		got, err := MMD(c.xs, c.xt, c.opt)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(float64(got.Item())-c.want) > 1e-6 {
			t.Errorf("%s: MMD² = %.7f, want %.7f", c.name, got.Item(), c.want)
		}
	}
	// CORAL: C_s = diag(2, 0), C_t = diag(0, 2), ‖diag(2,−2)‖² / (4·2²) = 0.5.
	c, err := CORAL(tensor.New([]float32{0, 0, 2, 0}, 2, 2), tensor.New([]float32{0, 0, 0, 2}, 2, 2))
	if err != nil || math.Abs(float64(c.Item())-0.5) > 1e-7 {
		t.Errorf("CORAL = %v (%v), want 0.5", c, err)
	}
}

func TestDiscrepanciesMatchPyTorch(t *testing.T) {
	type mmdCase struct {
		name   string
		ns, nt int
		est    Estimator
		k      Kernels
	}
	cases := []mmdCase{
		{"biased DAN family", 24, 24, Biased, Kernels{}},
		{"biased unequal batches", 17, 29, Biased, Kernels{}},
		{"unbiased DAN family", 24, 20, Unbiased, Kernels{}},
		{"unbiased median", 19, 23, Unbiased, Kernels{Median: true, Multipliers: []float64{0.5, 1, 2}}},
		{"biased fixed σ", 16, 16, Biased, Kernels{Sigmas: []float64{0.7, 2.5}}},
		{"linear DAN family", 40, 40, Linear, Kernels{}},
		{"linear unequal median", 41, 36, Linear, Kernels{Median: true}},
	}
	kernelArgs := func(k Kernels) map[string]any {
		m := map[string]any{"median": k.Median}
		if k.Sigmas != nil {
			m["sigmas"] = k.Sigmas
		}
		if k.Multipliers != nil {
			m["multipliers"] = k.Multipliers
		}
		return m
	}
	var calls []discCall
	var got []float64
	var names []string
	for i, c := range cases {
		xs := randn(uint64(10+i), c.ns, 5, 0, 1)
		xt := randn(uint64(50+i), c.nt, 5, 0.4, 1.3)
		m, err := MMD(xs, xt, MMDOptions{Estimator: c.est, Kernels: c.k})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		calls = append(calls, discCall{"mmd", map[string]any{"xs": rowsOf(xs), "xt": rowsOf(xt), "estimator": string(c.est), "kernel": kernelArgs(c.k)}})
		got, names = append(got, float64(m.Item())), append(names, "MMD "+c.name)
	}
	for i, est := range []Estimator{Biased, Unbiased, Linear} {
		fs, ft := randn(uint64(90+i), 30, 6, 0, 1), randn(uint64(95+i), 30, 6, 0.3, 1)
		ps, pt := randn(uint64(70+i), 30, 3, 0, 1).Softmax(1), randn(uint64(75+i), 30, 3, 0.5, 1).Softmax(1)
		m, err := JointMMD([]*tensor.Tensor{fs, ps}, []*tensor.Tensor{ft, pt}, JMMDOptions{Estimator: est, Kernels: JANKernels})
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, discCall{"jmmd", map[string]any{"xs": [][][]float64{rowsOf(fs), rowsOf(ps)}, "xt": [][][]float64{rowsOf(ft), rowsOf(pt)},
			"estimator": string(est), "kernels": []any{kernelArgs(JANKernels[0]), kernelArgs(JANKernels[1])}}})
		got, names = append(got, float64(m.Item())), append(names, "JMMD "+string(est))
	}
	for i, d := range []int{3, 16} {
		xs, xt := randn(uint64(30+i), 25, d, 0, 1), randn(uint64(35+i), 33, d, 0.2, 1.5)
		c, err := CORAL(xs, xt)
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, discCall{"coral", map[string]any{"xs": rowsOf(xs), "xt": rowsOf(xt)}})
		got, names = append(got, float64(c.Item())), append(names, fmt.Sprintf("CORAL d=%d", d))
	}
	want := runDiscRef(t, []string{"torch", "numpy"}, calls)
	for i := range want {
		if e := relErr(got[i], want[i]); e > 1e-5 {
			t.Errorf("%s: graft %.9g, PyTorch %.9g (relative error %.2g)", names[i], got[i], want[i], e)
		}
	}
}

func TestDiscrepancyGradients(t *testing.T) {
	fixed := Kernels{Sigmas: []float64{0.8, 1.6}}
	xs, xt := randn(1, 6, 3, 0, 1), randn(2, 7, 3, 0.5, 1)
	ls, lt := randn(3, 6, 4, 0, 1), randn(4, 7, 4, 0, 1)
	for _, in := range []*tensor.Tensor{xs, xt, ls, lt} {
		in.SetRequiresGrad(true)
	}
	must := func(v *tensor.Tensor, err error) *tensor.Tensor {
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	step := func(in []*tensor.Tensor) Step {
		return Step{SourceFeatures: in[0], TargetFeatures: in[1], SourceLogits: in[2], TargetLogits: in[3]}
	}
	cases := map[string]func(in ...*tensor.Tensor) *tensor.Tensor{
		"MMD biased": func(in ...*tensor.Tensor) *tensor.Tensor { return must(MMD(in[0], in[1], MMDOptions{Kernels: fixed})) },
		"MMD unbiased": func(in ...*tensor.Tensor) *tensor.Tensor {
			return must(MMD(in[0], in[1], MMDOptions{Estimator: Unbiased, Kernels: fixed}))
		},
		"MMD linear": func(in ...*tensor.Tensor) *tensor.Tensor {
			return must(MMD(in[0], in[1], MMDOptions{Estimator: Linear, Kernels: fixed}))
		},
		"CORAL": func(in ...*tensor.Tensor) *tensor.Tensor { return must(CORAL(in[0], in[1])) },
		"DAN": func(in ...*tensor.Tensor) *tensor.Tensor {
			return must(DANAlignment{Weight: 2, LogitsWeight: 0.5, Options: MMDOptions{Kernels: fixed}}.Loss(step(in)))
		},
		"JAN biased": func(in ...*tensor.Tensor) *tensor.Tensor {
			return must(JMMDAlignment{Options: JMMDOptions{Kernels: []Kernels{fixed, {Sigmas: []float64{0.92}}}}}.Loss(step(in)))
		},
		"JAN linear": func(in ...*tensor.Tensor) *tensor.Tensor {
			return must(JMMDAlignment{Options: JMMDOptions{Estimator: Linear, Kernels: []Kernels{fixed, {Sigmas: []float64{0.92}}}}}.Loss(step(in)))
		},
		"CORAL alignment": func(in ...*tensor.Tensor) *tensor.Tensor { return must(CORALAlignment{Weight: 100}.Loss(step(in))) },
	}
	for name, f := range cases {
		if err := tensor.GradCheck(f, []*tensor.Tensor{xs, xt, ls, lt}, tensor.GradCheckOptions{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAlignmentsScaleTheirFunctions(t *testing.T) {
	xs, xt := randn(5, 12, 4, 0, 1), randn(6, 12, 4, 1, 1)
	ls, lt := randn(7, 12, 3, 0, 1), randn(8, 12, 3, 0, 1)
	s := Step{SourceFeatures: xs, TargetFeatures: xt, SourceLogits: ls, TargetLogits: lt}
	m, _ := MMD(xs, xt, MMDOptions{})
	ml, _ := MMD(ls.Softmax(1), lt.Softmax(1), MMDOptions{})
	c, _ := CORAL(xs, xt)
	j, _ := JointMMD([]*tensor.Tensor{xs, ls.Softmax(1)}, []*tensor.Tensor{xt, lt.Softmax(1)}, JMMDOptions{Kernels: JANKernels})
	for _, c := range []struct {
		a    Alignment
		name string
		want float64
	}{
		{MMDAlignment{}, "MMD", float64(m.Item())},
		{MMDAlignment{Weight: 3}, "MMD", 3 * float64(m.Item())},
		{DANAlignment{LogitsWeight: 0.5}, "DAN", float64(m.Item()) + 0.5*float64(ml.Item())},
		{CORALAlignment{Weight: 1000}, "CORAL", 1000 * float64(c.Item())},
		{JMMDAlignment{Weight: 2}, "JAN", 2 * float64(j.Item())},
	} {
		got, err := c.a.Loss(s)
		if err != nil {
			t.Fatal(err)
		}
		if c.a.Name() != c.name || c.a.Parameters() != nil || relErr(float64(got.Item()), c.want) > 1e-5 {
			t.Errorf("%s: loss %v, want %v (name %q)", c.name, got.Item(), c.want, c.a.Name())
		}
	}
	if m2, _ := MMD(xs, randn(9, 12, 4, 0, 1), MMDOptions{}); m2.Item() >= m.Item() {
		t.Errorf("MMD of two samples of one distribution %v ≥ MMD of shifted ones %v", m2.Item(), m.Item())
	}
}

func TestDiscrepancyBadInput(t *testing.T) {
	a, b := randn(1, 4, 3, 0, 1), randn(2, 4, 2, 0, 1)
	one := randn(3, 1, 3, 0, 1)
	empty := tensor.Zeros(0, 3)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"widths", second(MMD(a, b, MMDOptions{})), "source width 3"},
		{"widths CORAL", second(CORAL(a, b)), "target width 2"},
		{"empty target", second(MMD(a, empty, MMDOptions{})), "target batch xt is empty (0 rows)"},
		{"empty source", second(CORAL(empty, a)), "source batch xs is empty"},
		{"single unbiased", second(MMD(one, a, MMDOptions{Estimator: Unbiased})), "needs at least 2 samples per domain, got 1 source"},
		{"single linear", second(MMD(a, one, MMDOptions{Estimator: Linear})), "got 4 source and 1 target"},
		{"single CORAL", second(CORAL(one, a)), "got 1 source and 4 target"},
		{"estimator", second(MMD(a, a, MMDOptions{Estimator: "quadratic"})), `estimator "quadratic"`},
		{"sigma", second(MMD(a, a, MMDOptions{Kernels: Kernels{Sigmas: []float64{1, -2}}})), "Sigmas[1] = -2"},
		{"layers", second(JointMMD([]*tensor.Tensor{a}, nil, JMMDOptions{})), "1 source layers and 0 target layers"},
		{"layer rows", second(JointMMD([]*tensor.Tensor{a, one}, []*tensor.Tensor{a, a}, JMMDOptions{})), "layer 1 has 1 source"},
		{"rank", second(MMD(tensor.Zeros(3), a, MMDOptions{})), "want (N, D) matrices"},
		{"step", second(MMDAlignment{}.Loss(Step{SourceFeatures: a})), "no source or target features"},
		{"step logits", second(JMMDAlignment{}.Loss(Step{SourceFeatures: a, TargetFeatures: a})), "no source or target logits"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}

// second returns the error of a (value, error) pair.
func second(_ *tensor.Tensor, err error) error { return err }
