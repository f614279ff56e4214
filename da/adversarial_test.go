package da

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/tensor"
)

func TestGradReverseExact(t *testing.T) {
	x := tensor.New([]float32{1, -2, 3}, 3).SetRequiresGrad(true)
	y := GradReverse(x, 0.5)
	if got := y.Data(); got[0] != 1 || got[1] != -2 || got[2] != 3 {
		t.Fatalf("forward %v, want the identity [1 -2 3]", got)
	}
	// loss = Σ w·y with w = (2, 3, -4): dloss/dy = w, so dloss/dx = −0.5·w.
	y.Mul(tensor.New([]float32{2, 3, -4}, 3)).Sum().Backward()
	want := []float32{-1, -1.5, 2}
	for i, g := range x.GradData() {
		if g != want[i] {
			t.Fatalf("grad %v, want %v exactly", x.GradData(), want)
		}
	}
}

func TestGradReverseGradCheck(t *testing.T) {
	// Reversing twice, with λ and 1/λ, is the identity in both passes:
	// finite differences then check the composite's reversed gradients.
	x := tensor.Randn(tensor.NewRNG(1), 4, 3).SetRequiresGrad(true)
	f := func(in ...*tensor.Tensor) *tensor.Tensor {
		return GradReverse(GradReverse(in[0].Tanh(), 2.5), 1/2.5).Square()
	}
	if err := tensor.GradCheck(f, []*tensor.Tensor{x}, tensor.GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
	// And a single reversal is caught by the check: its gradient has the
	// wrong sign.
	g := func(in ...*tensor.Tensor) *tensor.Tensor { return GradReverse(in[0].Tanh(), 1).Square() }
	if err := tensor.GradCheck(g, []*tensor.Tensor{x}, tensor.GradCheckOptions{}); err == nil {
		t.Fatal("GradCheck passed a reversed gradient")
	}
}

func TestDANNLambda(t *testing.T) {
	// 2/(1+e^(−x)) − 1 = tanh(x/2).
	for _, c := range []struct{ p, want float64 }{
		{0, 0},
		{0.1, 0.46211715726000974}, // tanh(0.5)
		{0.5, 0.9866142981514303},  // tanh(2.5)
		{1, 0.9999092042625951},    // tanh(5)
	} {
		if got := DANNLambda(c.p); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("DANNLambda(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := DANNLambdaGamma(0.5, 2); math.Abs(got-math.Tanh(0.5)) > 1e-15 {
		t.Errorf("DANNLambdaGamma(0.5, 2) = %v, want tanh(0.5)", got)
	}
}

// smallDisc is a discriminator small enough for finite differences.
var smallDisc = DiscriminatorConfig{Hidden: []int{5}, Activation: "tanh", Seed: 3}

// advUndo wraps features so that a loss's reversal λ is undone: the composite
// has the plain gradient finite differences measure.
func advUndo(x *tensor.Tensor, lambda float64) *tensor.Tensor { return GradReverse(x, 1/lambda) }

func TestDomainLossesGradCheck(t *testing.T) {
	r := tensor.NewRNG(7)
	fs := tensor.Randn(r, 6, 4).SetRequiresGrad(true)
	ft := tensor.Randn(r, 5, 4).AddScalar(0.5).SetRequiresGrad(true)
	d, err := NewDiscriminator(4, smallDisc)
	if err != nil {
		t.Fatal(err)
	}
	inputs := append([]*tensor.Tensor{fs, ft}, d.Parameters()...)
	t.Run("discriminator", func(t *testing.T) {
		f := func(in ...*tensor.Tensor) *tensor.Tensor {
			l, err := d.DomainLoss(in[0], in[1])
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		if err := tensor.GradCheck(f, inputs, tensor.GradCheckOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ADDA confusion", func(t *testing.T) {
		f := func(in ...*tensor.Tensor) *tensor.Tensor {
			l, err := d.ConfusionLoss(in[1])
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		if err := tensor.GradCheck(f, inputs, tensor.GradCheckOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("DANN", func(t *testing.T) {
		a, err := NewDANN(4, DANNConfig{Weight: 0.7, Discriminator: smallDisc})
		if err != nil {
			t.Fatal(err)
		}
		const p = 0.3
		lambda := DANNLambda(p)
		in := append([]*tensor.Tensor{fs, ft}, a.Parameters()...)
		f := func(in ...*tensor.Tensor) *tensor.Tensor {
			l, err := a.Loss(Step{SourceFeatures: advUndo(in[0], lambda), TargetFeatures: advUndo(in[1], lambda), Progress: p})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		if err := tensor.GradCheck(f, in, tensor.GradCheckOptions{}); err != nil {
			t.Fatal(err)
		}
		// Its value is 0.7 × the discriminator's BCE.
		l, _ := a.Loss(Step{SourceFeatures: fs, TargetFeatures: ft, Progress: p})
		ref, _ := a.Discriminator.DomainLoss(fs, ft)
		if got, want := l.Item(), 0.7*ref.Item(); math.Abs(float64(got-want)) > 1e-6 {
			t.Errorf("DANN loss %v, want 0.7 × BCE = %v", got, want)
		}
	})
	for _, c := range []struct {
		name string
		cfg  CDANConfig
	}{
		{"CDAN", CDANConfig{Discriminator: smallDisc}},
		{"CDAN+E", CDANConfig{Discriminator: smallDisc, Entropy: true}},
		{"CDAN randomized", CDANConfig{Discriminator: smallDisc, Map: "randomized", RandomDim: 7, Seed: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := NewCDAN(4, 3, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if a.Name() != strings.Fields(c.name)[0] {
				t.Errorf("Name %q", a.Name())
			}
			ls := tensor.Randn(r, 6, 3).Scale(2)
			lt := tensor.Randn(r, 5, 3)
			const p = 0.8
			lambda := a.Coefficient(p)
			in := append([]*tensor.Tensor{fs, ft}, a.Parameters()...)
			f := func(in ...*tensor.Tensor) *tensor.Tensor {
				l, err := a.Loss(Step{SourceFeatures: advUndo(in[0], lambda), TargetFeatures: advUndo(in[1], lambda), SourceLogits: ls, TargetLogits: lt, Progress: p})
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			if err := tensor.GradCheck(f, in, tensor.GradCheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCDANConditionAndWeights(t *testing.T) {
	a, err := NewCDAN(2, 2, CDANConfig{Discriminator: smallDisc})
	if err != nil {
		t.Fatal(err)
	}
	h := a.Condition(tensor.New([]float32{1, 2}, 1, 2), tensor.New([]float32{0.25, 0.75}, 1, 2))
	want := []float32{0.25, 0.75, 0.5, 1.5} // f_i·g_j, row-major over (i, j)
	for i, v := range h.Data() {
		if v != want[i] {
			t.Fatalf("f⊗g = %v, want %v", h.Data(), want)
		}
	}
	// Logits (0,0): p = (½,½), H = ln 2, w = 1.5. Logits (ln 3, 0): p = (¾,¼).
	w := EntropyWeights(tensor.New([]float32{0, 0, float32(math.Log(3)), 0}, 2, 2)).Data()
	h2 := -(0.75*math.Log(0.75) + 0.25*math.Log(0.25))
	w0, w1 := 1.5, 1+math.Exp(-h2)
	if math.Abs(float64(w[0])-w0/(w0+w1)) > 1e-6 || math.Abs(float64(w[1])-w1/(w0+w1)) > 1e-6 {
		t.Errorf("entropy weights %v, want %v %v", w, w0/(w0+w1), w1/(w0+w1))
	}
	big, err := NewCDAN(100, 50, CDANConfig{Discriminator: DiscriminatorConfig{Hidden: []int{4}}})
	if err != nil {
		t.Fatal(err)
	}
	if big.rf == nil || big.Discriminator.in != 1024 {
		t.Errorf("D·K = 5000 > %d should take the randomized map of width 1024", MaxMultilinearDim)
	}
}

func TestAdversarialErrors(t *testing.T) {
	a, _ := NewDANN(3, DANNConfig{Discriminator: smallDisc})
	fs := tensor.Ones(4, 3)
	for _, c := range []struct {
		name string
		s    Step
		want string
	}{
		{"no target", Step{SourceFeatures: fs}, "needs both domains; the target features are nil"},
		{"empty target", Step{SourceFeatures: fs, TargetFeatures: tensor.Zeros(0, 3)}, "target features are (0,3)"},
		{"no source", Step{TargetFeatures: fs}, "source features are nil"},
		{"wrong width", Step{SourceFeatures: fs, TargetFeatures: tensor.Ones(2, 5)}, "(2,5) do not match the discriminator's input width 3"},
	} {
		if _, err := a.Loss(c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	c, _ := NewCDAN(3, 2, CDANConfig{Discriminator: smallDisc})
	if _, err := c.Loss(Step{SourceFeatures: fs, TargetFeatures: fs, SourceLogits: tensor.Ones(4, 2)}); err == nil || !strings.Contains(err.Error(), "target logits are nil") {
		t.Errorf("CDAN without target logits: %v", err)
	}
	for _, bad := range []error{
		func() error { _, err := NewDANN(3, DANNConfig{Weight: -1}); return err }(),
		func() error { _, err := NewCDAN(3, 2, CDANConfig{Map: "bilinear"}); return err }(),
		func() error { _, err := NewDiscriminator(0, DiscriminatorConfig{}); return err }(),
		func() error { _, err := NewDiscriminator(3, DiscriminatorConfig{Hidden: []int{4, -1}}); return err }(),
	} {
		if bad == nil {
			t.Error("a bad configuration was accepted")
		}
	}
}

func TestFitErrors(t *testing.T) {
	pair, err := data.RotatedMoons(20, 0.05, 35, 1)
	if err != nil {
		t.Fatal(err)
	}
	model, _ := models.NewMLP(models.MLPConfig{Inputs: 2, Hidden: []int{4}, Classes: 2}, tensor.NewRNG(1))
	empty := pair
	empty.Target = pair.Target.Subset(nil)
	if _, err := Fit(context.Background(), model, empty, FitOptions{Steps: 2}); err == nil || !strings.Contains(err.Error(), "target domain of") || !strings.Contains(err.Error(), "is empty (0 rows)") {
		t.Errorf("empty target: %v", err)
	}
	mismatch := pair
	tgt := *pair.Target
	tgt.Classes = []string{"a", "b", "c"}
	mismatch.Target = &tgt
	if _, err := Fit(context.Background(), model, mismatch, FitOptions{Steps: 2}); err == nil || !strings.Contains(err.Error(), "classes differ") {
		t.Errorf("mismatched classes: %v", err)
	}
	if _, err := Fit(context.Background(), model, pair, FitOptions{Steps: 2, Optimizer: "lbfgs"}); err == nil || !strings.Contains(err.Error(), `"lbfgs"`) {
		t.Errorf("unknown optimiser: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Fit(ctx, model, pair, FitOptions{Steps: 5})
	if err != context.Canceled || res == nil || res.Steps != 0 {
		t.Errorf("cancelled: result %v, error %v", res, err)
	}
}
