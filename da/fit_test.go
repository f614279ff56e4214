package da

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/display"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// cancelAt is an alignment without parameters whose loss is the mean
// squared difference of the feature means; it cancels a context at a step.
type cancelAt struct {
	calls, at int
	cancel    func()
}

func (c *cancelAt) Name() string                 { return "mean-match" }
func (c *cancelAt) Parameters() []*tensor.Tensor { return nil }
func (c *cancelAt) Loss(s Step) (*tensor.Tensor, error) {
	c.calls++
	if c.calls == c.at {
		c.cancel()
	}
	return s.SourceFeatures.Mean(0).Sub(s.TargetFeatures.Mean(0)).Square().Mean(), nil
}

func moonsModel(t *testing.T, seed uint64) (*models.MLP, data.DomainPair) {
	t.Helper()
	pair, err := data.RotatedMoons(40, 0.05, 35, seed)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.NewMLP(models.MLPConfig{Inputs: 2, Hidden: []int{6}, Classes: 2}, tensor.NewRNG(seed))
	if err != nil {
		t.Fatal(err)
	}
	return m, pair
}

func TestFitInterruptedBetweenSteps(t *testing.T) {
	m, pair := moonsModel(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	a := &cancelAt{at: 3, cancel: cancel}
	res, err := Fit(ctx, m, pair, FitOptions{Alignment: a, Steps: 50})
	if err != context.Canceled {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if res.Steps != 3 || len(res.Loss) != 3 || res.Method != "mean-match" || res.Lambda != nil {
		t.Errorf("interrupted result: %d steps, %d losses, method %q, λ %v", res.Steps, len(res.Loss), res.Method, res.Lambda)
	}
	if len(res.TargetCurve) == 0 || res.TargetAccuracy != res.TargetCurve[len(res.TargetCurve)-1] {
		t.Error("an interrupted fit still evaluates the model it leaves")
	}
}

func TestFitSeededAndCurves(t *testing.T) {
	run := func(opt FitOptions) *Result {
		m, pair := moonsModel(t, 2)
		a, err := NewDANN(6, DANNConfig{Discriminator: DiscriminatorConfig{Hidden: []int{4}, Dropout: 0.2, Seed: 1}})
		if err != nil {
			t.Fatal(err)
		}
		opt.Alignment, opt.Steps, opt.EvalEvery = a, 40, 10
		res, err := Fit(context.Background(), m, pair, opt)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, opt := range []FitOptions{{Seed: 5}, {Seed: 5, Optimizer: "sgd", Anneal: true, HeadLRScale: 10}} {
		a, b := run(opt), run(opt)
		for i := range a.Loss {
			if a.Loss[i] != b.Loss[i] {
				t.Fatalf("%+v: step %d loss %v then %v: not reproducible", opt, i, a.Loss[i], b.Loss[i])
			}
		}
		if a.Steps != 40 || len(a.Lambda) != 40 || a.Lambda[0] != 0 || a.Lambda[39] != DANNLambda(39.0/40) {
			t.Errorf("λ curve %v", a.Lambda)
		}
		if want := []int{10, 20, 30, 40}; len(a.EvalSteps) != 4 || a.EvalSteps[3] != 40 || a.EvalSteps[0] != want[0] {
			t.Errorf("evaluations after steps %v, want %v", a.EvalSteps, want)
		}
		for i := range a.Loss {
			if d := a.Loss[i] - a.ClassLoss[i] - a.AlignLoss[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("step %d: total %v ≠ class %v + alignment %v", i, a.Loss[i], a.ClassLoss[i], a.AlignLoss[i])
			}
		}
	}
}

func TestFitParameterGroups(t *testing.T) {
	m, _ := moonsModel(t, 1)
	a, _ := NewDANN(6, DANNConfig{Discriminator: DiscriminatorConfig{Hidden: []int{4}}})
	o, err := FitOptions{Alignment: a, LR: 0.01, FeatureLRScale: 0.1, AlignmentLRScale: 10}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	opz, err := newGroups(m, a, o)
	if err != nil {
		t.Fatal(err)
	}
	gs := opz.Groups()
	want := []struct {
		name string
		n    int
		lr   float64
	}{{"features", 2, 0.001}, {"head", 2, 0.01}, {"alignment", 4, 0.1}}
	if len(gs) != 3 {
		t.Fatalf("%d groups", len(gs))
	}
	total := 0
	for i, w := range want {
		if gs[i].Name != w.name || len(gs[i].Params) != w.n || gs[i].LR < w.lr*(1-1e-12) || gs[i].LR > w.lr*(1+1e-12) {
			t.Errorf("group %d: %s with %d tensors at LR %v, want %s, %d, %v", i, gs[i].Name, len(gs[i].Params), gs[i].LR, w.name, w.n, w.lr)
		}
		total += len(gs[i].Params)
	}
	if n := len(nn.Parameters(m)) + len(a.Parameters()); total != n {
		t.Errorf("groups hold %d tensors, model and discriminator %d", total, n)
	}
}

func TestResultDisplay(t *testing.T) {
	m, pair := moonsModel(t, 3)
	res, err := Fit(context.Background(), m, pair, FitOptions{Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	b := res.Display()
	if _, ok := b.Data[display.MIMEPNG]; !ok {
		t.Error("the result shows no curves")
	}
	text := b.Text()
	for _, w := range []string{"source-only on two moons", "method", "target acc", "20"} {
		if !strings.Contains(text, w) {
			t.Errorf("text %q lacks %q", text, w)
		}
	}
	if html, _ := b.Data[display.MIMEHTML].(string); !strings.Contains(html, "<table") || !strings.Contains(html, "data:image/png;base64,") {
		t.Error("the HTML form lacks the table or the curves")
	}
}

// The discrepancy alignments are plain values; Fit trains with them and
// records their loss, which falls as the domains align.
func TestFitWithValueAlignments(t *testing.T) {
	for _, a := range []Alignment{MMDAlignment{Weight: 1}, CORALAlignment{Weight: 1}} {
		m, pair := moonsModel(t, 2)
		res, err := Fit(context.Background(), m, pair, FitOptions{Alignment: a, Steps: 30, LR: 0.01, EvalEvery: -1})
		if err != nil {
			t.Fatalf("%s: %v", a.Name(), err)
		}
		if res.Method != a.Name() || len(res.AlignLoss) != 30 || !(res.AlignLoss[0] > 0) {
			t.Errorf("%s: method %q, %d alignment losses, first %v", a.Name(), res.Method, len(res.AlignLoss), res.AlignLoss[0])
		}
	}
}

// A source-only fit never runs the target through the model: with batch
// norms, its running statistics are the same whatever the target holds.
func TestSourceOnlyNeverSeesTheTarget(t *testing.T) {
	_, pair := moonsModel(t, 4)
	far, err := pair.Target.Map("far away", func(x *tensor.Tensor) *tensor.Tensor { return x.AddScalar(100) })
	if err != nil {
		t.Fatal(err)
	}
	stats := func(target *data.Dataset) []float32 {
		m, err := models.NewMLP(models.MLPConfig{Inputs: 2, Hidden: []int{6}, Classes: 2, BatchNorm: true}, tensor.NewRNG(4))
		if err != nil {
			t.Fatal(err)
		}
		p := pair
		p.Target = target
		if _, err := Fit(context.Background(), m, p, FitOptions{Steps: 10, EvalEvery: -1}); err != nil {
			t.Fatal(err)
		}
		var out []float32
		for _, b := range nn.NamedBuffers(m) {
			out = append(out, b.Tensor.Data()...)
		}
		return out
	}
	a, b := stats(pair.Target), stats(far)
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Errorf("batch-norm statistics depend on the target: %v vs %v", a, b)
	}
}
