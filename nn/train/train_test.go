package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// tinyNet is a linear model y = x·Wᵀ + B that records its mode.
type tinyNet struct {
	W, B     *tensor.Tensor
	training bool
}

func newTinyNet(in int) *tinyNet {
	return &tinyNet{W: tensor.Zeros(1, in).SetRequiresGrad(true), B: tensor.Zeros(1).SetRequiresGrad(true), training: true}
}

func (m *tinyNet) SetTraining(on bool) { m.training = on }

func (m *tinyNet) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.Linear(x, m.W, m.B) }

// regression returns n examples of y = 1.5·x0 − 2·x1 + 0.5·x2 + 0.3.
func regression(n int, seed uint64) *TensorDataset {
	x := tensor.Randn(tensor.NewRNG(seed), n, 3)
	y := tensor.Linear(x, tensor.New([]float32{1.5, -2, 0.5}, 1, 3), tensor.New([]float32{0.3}, 1))
	d, err := NewTensorDataset(x, y)
	if err != nil {
		panic(err)
	}
	return d
}

func mse(m *tinyNet) func(b Batch) (*tensor.Tensor, error) {
	return func(b Batch) (*tensor.Tensor, error) { return m.Forward(b.X).Sub(b.Y).Square().Mean(), nil }
}

// baseConfig trains a tinyNet on 64 regression examples: 4 batches of 16 per epoch.
func baseConfig(t *testing.T) (Config, *tinyNet) {
	t.Helper()
	m := newTinyNet(3)
	opt, err := optim.NewAdam(nn.Parameters(m), optim.AdamConfig{LR: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	return Config{Model: m, Optimizer: opt, Loss: mse(m), Train: regression(64, 1), BatchSize: 16, Epochs: 3, Shuffle: true, Seed: 3}, m
}

func TestDatasets(t *testing.T) {
	x := tensor.New([]float32{0, 1, 10, 11, 20, 21, 30, 31}, 4, 2)
	y := tensor.New([]float32{0, 1, 2, 3}, 4)
	d, err := NewTensorDataset(x, y)
	if err != nil {
		t.Fatal(err)
	}
	b := d.Batch([]int{2, 0})
	if d.Len() != 4 || b.Size() != 2 || fmt.Sprint(b.X.Data()) != "[20 21 0 1]" || fmt.Sprint(b.Y.Data()) != "[2 0]" || fmt.Sprint(b.Indices) != "[2 0]" || b.Labels != nil {
		t.Errorf("batch: X %v Y %v indices %v labels %v", b.X.Data(), b.Y.Data(), b.Indices, b.Labels)
	}
	l, err := NewLabelledDataset(x, []int{5, 6, 7, 8})
	if err != nil {
		t.Fatal(err)
	}
	if b := l.Batch([]int{3, 1}); fmt.Sprint(b.Labels) != "[8 6]" || b.Y != nil {
		t.Errorf("labelled batch: labels %v, Y %v", b.Labels, b.Y)
	}
	if noY, err := NewTensorDataset(x, nil); err != nil || noY.Batch([]int{1}).Y != nil {
		t.Errorf("dataset without y: %v", err)
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{second(NewTensorDataset(x, tensor.Zeros(3))), "x has 4 rows (4,2) but y has 3 (3)"},
		{second(NewLabelledDataset(x, []int{1, 2})), "x has 4 rows (4,2) but there are 2 labels"},
		{second(NewTensorDataset(nil, y)), "x is nil"},
		{second(NewTensorDataset(tensor.Scalar(1), nil)), "scalar"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", c.err, c.want)
		}
	}
}

func second(_ *TensorDataset, err error) error { return err }

func TestRunTrainsLinearRegression(t *testing.T) {
	cfg, m := baseConfig(t)
	cfg.Epochs = 40
	cfg.Eval = regression(32, 2)
	var progress []Progress
	cfg.OnProgress = func(p Progress) { progress = append(progress, p) }
	hist, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	const steps = 4 * 40
	if hist.Len() != steps || len(hist.Epochs) != 40 || len(hist.Evals) != 40 {
		t.Fatalf("history: %d steps, %d epochs, %d evals; want %d, 40, 40", hist.Len(), len(hist.Epochs), len(hist.Evals), steps)
	}
	if last := hist.Epochs[39]; last.Train["loss"] > 1e-3 || last.Eval["loss"] > 1e-3 {
		t.Errorf("final epoch: train loss %v, eval loss %v; want < 1e-3", last.Train["loss"], last.Eval["loss"])
	}
	w := m.W.Data()
	if math.Abs(float64(w[0])-1.5) > 0.02 || math.Abs(float64(w[1])+2) > 0.02 || math.Abs(float64(m.B.Data()[0])-0.3) > 0.02 {
		t.Errorf("weights %v bias %v, want about (1.5, −2, 0.5) and 0.3", w, m.B.Data())
	}
	if hist.Records[0].Loss < 10*hist.Records[steps-1].Loss {
		t.Errorf("loss did not fall: %v → %v", hist.Records[0].Loss, hist.Records[steps-1].Loss)
	}
	// Progress after every step, with consistent positions.
	if len(progress) != steps {
		t.Fatalf("OnProgress called %d times, want %d", len(progress), steps)
	}
	for i, p := range progress {
		wantEpoch, wantBatch := i/4+1, i%4+1
		if p.Step != i+1 || p.TotalSteps != steps || p.Epoch != wantEpoch || p.Epochs != 40 || p.Batch != wantBatch || p.Batches != 4 || p.LR != 0.05 || p.Loss != hist.Records[i].Loss {
			t.Fatalf("progress %d: %+v", i, p)
		}
		if (p.Eval != nil) != (wantBatch == 4) {
			t.Fatalf("progress %d: eval %v", i, p.Eval)
		}
		if p.Elapsed < 0 || p.StepsPerSecond < 0 || (i > 0 && p.Elapsed < progress[i-1].Elapsed) {
			t.Fatalf("progress %d: elapsed %v, %v steps/s", i, p.Elapsed, p.StepsPerSecond)
		}
	}
	if s := progress[3].String(); !strings.Contains(s, "step 4/160  epoch 1/40") || !strings.Contains(s, "eval_loss") {
		t.Errorf("progress line %q", s)
	}
	if got := hist.Series("lr"); len(got) != steps || got[17] != 0.05 {
		t.Errorf("lr series %v", got[:5])
	}
	if got := hist.EpochSeries("eval_loss"); len(got) != 40 || got[39] != hist.Evals[39].Metrics["loss"] {
		t.Errorf("eval_loss by epoch: %v", got)
	}
}

func TestShuffleIsAFunctionOfSeedAndEpoch(t *testing.T) {
	order := func(seed uint64, epochs int) [][]int {
		cfg, _ := baseConfig(t)
		cfg.Seed, cfg.Epochs = seed, epochs
		var seen [][]int
		loss := cfg.Loss
		cfg.Loss = func(b Batch) (*tensor.Tensor, error) {
			seen = append(seen, b.Indices)
			return loss(b)
		}
		if _, err := Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		return seen
	}
	a, b, c := order(3, 2), order(3, 2), order(4, 2)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different order")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Errorf("different seeds, same order")
	}
	if fmt.Sprint(a[:4]) == fmt.Sprint(a[4:]) {
		t.Errorf("epochs 1 and 2 have the same order")
	}
	// Each epoch is a permutation of all 64 examples.
	seen := map[int]int{}
	for _, idx := range a[4:] {
		for _, i := range idx {
			seen[i]++
		}
	}
	if len(seen) != 64 {
		t.Errorf("epoch 2 saw %d distinct examples", len(seen))
	}
}

// TestEvaluateRunsWithoutGradInEvalMode checks evaluation conditions from
// inside the Evaluate callback and the batch-size weighting of its metrics.
func TestEvaluateRunsWithoutGradInEvalMode(t *testing.T) {
	cfg, m := baseConfig(t)
	cfg.Epochs, cfg.EvalEvery, cfg.EvalBatchSize = 2, 3, 4
	cfg.Eval = regression(10, 5)
	var sizes []int
	cfg.Evaluate = func(b Batch) map[string]float64 {
		if tensor.GradEnabled() || m.training {
			t.Errorf("evaluation with gradients %v, training mode %v", tensor.GradEnabled(), m.training)
		}
		sizes = append(sizes, b.Size())
		sum := 0
		for _, i := range b.Indices {
			sum += i
		}
		return map[string]float64{"mean_index": float64(sum) / float64(b.Size())}
	}
	cfg.Loss = func(b Batch) (*tensor.Tensor, error) {
		if !m.training || !tensor.GradEnabled() {
			t.Errorf("training step in evaluation mode")
		}
		return mse(m)(b)
	}
	hist, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 8 steps, evaluations after steps 3 and 6, in batches of 4, 4 and 2.
	if fmt.Sprint(hist.EvalSteps()) != "[3 6]" || fmt.Sprint(sizes) != "[4 4 2 4 4 2]" {
		t.Errorf("eval steps %v, batch sizes %v", hist.EvalSteps(), sizes)
	}
	// The batch-size-weighted mean of the per-batch mean index is the mean of 0…9.
	if got := hist.EvalSeries("mean_index"); len(got) != 2 || math.Abs(got[0]-4.5) > 1e-12 {
		t.Errorf("mean_index %v, want 4.5", got)
	}
	if !m.training {
		t.Errorf("training mode not restored after evaluation")
	}
	if hist.Epochs[0].Eval != nil {
		t.Errorf("epoch-end evaluation ran although EvalEvery is 3")
	}
}

func TestGradAccumulationAveragesBatches(t *testing.T) {
	run := func(batch, accum int) (*tinyNet, *History) {
		m := newTinyNet(3)
		opt, err := optim.NewSGD(nn.Parameters(m), optim.SGDConfig{LR: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		hist, err := Run(context.Background(), Config{Model: m, Optimizer: opt, Loss: mse(m), Train: regression(16, 1),
			BatchSize: batch, GradAccumulation: accum, Epochs: 2})
		if err != nil {
			t.Fatal(err)
		}
		return m, hist
	}
	big, hb := run(8, 1)
	small, hs := run(4, 2)
	if hb.Len() != 4 || hs.Len() != 4 {
		t.Fatalf("steps: %d and %d, want 4", hb.Len(), hs.Len())
	}
	for i, w := range big.W.Data() {
		if math.Abs(float64(w-small.W.Data()[i])) > 1e-6 {
			t.Errorf("weight %d: %v with batch 8, %v with 2×4 accumulated", i, w, small.W.Data()[i])
		}
	}
	for i := range hb.Records {
		if math.Abs(hb.Records[i].Loss-hs.Records[i].Loss) > 1e-6 {
			t.Errorf("step %d loss %v vs %v", i+1, hb.Records[i].Loss, hs.Records[i].Loss)
		}
	}
	// 10 examples, batches of 2 accumulated by 3: 5 batches → 2 steps per epoch.
	m := newTinyNet(3)
	opt, _ := optim.NewSGD(nn.Parameters(m), optim.SGDConfig{LR: 0.1})
	var calls int
	h, err := Run(context.Background(), Config{Model: m, Optimizer: opt, Train: regression(10, 1), BatchSize: 2, GradAccumulation: 3, Epochs: 1,
		Loss: func(b Batch) (*tensor.Tensor, error) { calls++; return mse(m)(b) }})
	if err != nil || h.Len() != 2 || calls != 5 {
		t.Errorf("uneven accumulation: %v, %d steps, %d batches", err, h.Len(), calls)
	}
}

func TestStepMetricsAndClipping(t *testing.T) {
	cfg, m := baseConfig(t)
	cfg.Loss = nil
	cfg.ClipGradNorm = 0.5
	cfg.Step = func(b Batch) (*tensor.Tensor, map[string]float64, error) {
		loss := mse(m)
		l, err := loss(b)
		return l, map[string]float64{"batch": float64(b.Size())}, err
	}
	hist, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(hist.Names()) != "[loss lr batch grad_norm]" {
		t.Errorf("names %v", hist.Names())
	}
	if g := hist.Series("grad_norm"); g[0] <= 0.5 {
		t.Errorf("first gradient norm %v; the test wants one above the clip", g[0])
	}
	if e := hist.Epochs[0].Train; e["batch"] != 16 || e["loss"] <= 0 {
		t.Errorf("epoch means %v", e)
	}
	last := hist.Last()
	if last["step"] != 12 || last["epoch"] != 3 || last["batch"] != 16 || last["lr"] != 0.05 {
		t.Errorf("Last() = %v", last)
	}
}

func TestScheduleSetsLearningRate(t *testing.T) {
	cfg, _ := baseConfig(t)
	cfg.Schedule = optim.WarmupLinear{Warmup: 4, Total: 12}
	hist, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0.0125, 0.025, 0.0375, 0.05, 0.04375, 0.0375, 0.03125, 0.025, 0.01875, 0.0125, 0.00625}
	for i, lr := range hist.Series("lr") {
		if math.Abs(lr-want[i]) > 1e-15 {
			t.Errorf("step %d: lr %v, want %v", i+1, lr, want[i])
		}
	}
	if _, err := Run(context.Background(), Config{Model: cfg.Model, Optimizer: cfg.Optimizer, Loss: cfg.Loss, Train: cfg.Train, Schedule: optim.Cosine{}}); err == nil || !strings.Contains(err.Error(), "Total must be > 0") {
		t.Errorf("invalid schedule: %v", err)
	}
}

func TestCancelFromOnProgress(t *testing.T) {
	cfg, _ := baseConfig(t)
	cfg.CheckpointDir = t.TempDir()
	cfg.CheckpointEvery = 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	cfg.OnProgress = func(p Progress) {
		calls++
		if p.Step == 5 {
			cancel()
		}
	}
	hist, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v does not wrap context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "stopped after step 5 of 12 (epoch 2)") {
		t.Errorf("error %q does not say where it stopped", err)
	}
	if hist.Len() != 5 || calls != 5 {
		t.Errorf("%d steps recorded, %d progress calls; want 5", hist.Len(), calls)
	}
	if latest, err := LatestCheckpoint(cfg.CheckpointDir); err != nil || !strings.HasSuffix(latest, "step-000005") {
		t.Errorf("checkpoint on cancel: %v %v", latest, err)
	}
}

func TestNaNLossStops(t *testing.T) {
	cfg, m := baseConfig(t)
	calls := 0
	cfg.Loss = func(b Batch) (*tensor.Tensor, error) {
		calls++
		l := m.Forward(b.X).Sub(b.Y).Square().Mean()
		if calls == 7 {
			return l.Mul(tensor.Scalar(float32(math.NaN()))), nil
		}
		return l, nil
	}
	hist, err := Run(context.Background(), cfg)
	if err == nil || err.Error() != "train: loss is NaN at step 7 (epoch 2, batch 3)" {
		t.Fatalf("error %v", err)
	}
	if !errors.Is(err, ErrNonFinite) {
		t.Errorf("error does not wrap ErrNonFinite")
	}
	if hist.Len() != 6 {
		t.Errorf("%d steps recorded, want 6", hist.Len())
	}
}

func TestContinueOnNonFinite(t *testing.T) {
	cfg, m := baseConfig(t)
	cfg.ContinueOnNonFinite = true
	calls := 0
	var before, after []float32
	cfg.Loss = func(b Batch) (*tensor.Tensor, error) {
		calls++
		l := m.Forward(b.X).Sub(b.Y).Square().Mean()
		if calls == 3 {
			before = append([]float32(nil), m.W.Data()...)
			return l.Mul(tensor.Scalar(float32(math.Inf(1)))), nil
		}
		if calls == 4 {
			after = append([]float32(nil), m.W.Data()...)
		}
		return l, nil
	}
	hist, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if hist.Len() != 12 || hist.Skipped != 1 || !hist.Records[2].Skipped || !math.IsInf(hist.Records[2].Loss, 1) {
		t.Fatalf("history: %d steps, %d skipped, record 3 %+v", hist.Len(), hist.Skipped, hist.Records[2])
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("the skipped step changed the weights: %v → %v", before, after)
	}
	e := hist.Epochs[0].Train["loss"]
	want := (hist.Records[0].Loss + hist.Records[1].Loss + hist.Records[3].Loss) / 3
	if math.Abs(e-want) > 1e-12 {
		t.Errorf("epoch 1 mean loss %v, want %v (skipped step left out)", e, want)
	}
	js, err := json.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	var back History
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(back.Records[2].Loss, 1) || back.Records[5].Loss != hist.Records[5].Loss || back.Skipped != 1 {
		t.Errorf("JSON round trip: %+v", back.Records[2])
	}
	if !strings.Contains(hist.String(), "1 skipped") {
		t.Errorf("String() does not mention the skipped step:\n%s", hist)
	}
}

func TestPanickingStepReturnsError(t *testing.T) {
	cfg, m := baseConfig(t)
	cfg.CheckpointDir = t.TempDir()
	cfg.CheckpointEvery = 100
	calls := 0
	cfg.Loss = func(b Batch) (*tensor.Tensor, error) {
		calls++
		if calls == 4 {
			var s []int
			_ = s[calls] // index out of range
		}
		return mse(m)(b)
	}
	hist, err := Run(context.Background(), cfg)
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *PanicError", err, err)
	}
	if !strings.HasPrefix(err.Error(), "train: panic in Loss at step 4 (epoch 1, batch 4): runtime error: index out of range") {
		t.Errorf("error %q", err)
	}
	if len(pe.Stack) == 0 || hist.Len() != 3 {
		t.Errorf("stack %d bytes, %d steps", len(pe.Stack), hist.Len())
	}
	if latest, err := LatestCheckpoint(cfg.CheckpointDir); err != nil || !strings.HasSuffix(latest, "step-000003") {
		t.Errorf("checkpoint after the panic: %v %v", latest, err)
	}
	// A panic in OnProgress is caught too.
	cfg2, _ := baseConfig(t)
	cfg2.OnProgress = func(p Progress) { panic("display broke") }
	if _, err := Run(context.Background(), cfg2); err == nil || err.Error() != "train: panic in OnProgress after step 1: display broke" {
		t.Errorf("OnProgress panic: %v", err)
	}
	// And a user error is returned with the step.
	cfg3, _ := baseConfig(t)
	cfg3.Loss = func(Batch) (*tensor.Tensor, error) { return nil, errors.New("bad batch") }
	if _, err := Run(context.Background(), cfg3); err == nil || err.Error() != "train: step 1 (epoch 1, batch 1): bad batch" {
		t.Errorf("Loss error: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	cfg, m := baseConfig(t)
	other := tensor.Zeros(2).SetRequiresGrad(true)
	foreign, _ := optim.NewSGD([]*tensor.Tensor{m.W, other}, optim.SGDConfig{LR: 1})
	cases := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"no optimiser", func(c *Config) { c.Optimizer = nil }, "Optimizer is nil"},
		{"no loss", func(c *Config) { c.Loss = nil }, "set Config.Loss or Config.Step"},
		{"both", func(c *Config) {
			c.Step = func(Batch) (*tensor.Tensor, map[string]float64, error) { return nil, nil, nil }
		}, "not both"},
		{"no data", func(c *Config) { c.Train = nil }, "Config.Train is nil"},
		{"negative batch", func(c *Config) { c.BatchSize = -4 }, "BatchSize is negative (-4)"},
		{"evaluate without eval", func(c *Config) { c.Evaluate = func(Batch) map[string]float64 { return nil } }, "Config.Eval"},
		{"too few for drop-last", func(c *Config) { c.BatchSize, c.DropLast = 100, true }, "64 examples, not enough for one batch of 100"},
		{"clip NaN", func(c *Config) { c.ClipGradNorm = math.NaN() }, "ClipGradNorm"},
		{"foreign parameter", func(c *Config) { c.Optimizer, c.CheckpointDir = foreign, t.TempDir() }, "optimiser parameter 1 (shape (2)) is not a parameter of the model"},
		{"checkpoint without model", func(c *Config) { c.Model, c.CheckpointDir = nil, t.TempDir() }, "checkpoints need Config.Model"},
		{"model not a module", func(c *Config) { c.Model = 3 }, "Config.Model: nn: a module must be a pointer to a struct, got int"},
		{"schedule gives NaN", func(c *Config) {
			c.Schedule = optim.ScheduleFunc(func(s int) float64 { return math.NaN() })
		}, "the schedule's factor at step 1 is NaN"},
	}
	for _, c := range cases {
		cc := cfg
		c.edit(&cc)
		hist, err := Run(context.Background(), cc)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if hist == nil {
			t.Errorf("%s: nil history", c.name)
		}
	}
}

func TestHistoryString(t *testing.T) {
	cfg, _ := baseConfig(t)
	cfg.Eval = regression(8, 9)
	hist, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := hist.String()
	lines := strings.Split(s, "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "epoch  step  loss") || !strings.Contains(lines[0], "eval_loss") || !strings.HasPrefix(lines[3], "3      12") {
		t.Errorf("String():\n%s", s)
	}
	if !strings.HasPrefix(lines[4], "12 steps, 3 epochs, 3 evaluations; last loss") {
		t.Errorf("summary %q", lines[4])
	}
	// Without a completed epoch the last steps are listed.
	cfg2, _ := baseConfig(t)
	cfg2.Epochs, cfg2.MaxSteps = 0, 2
	h2, err := Run(context.Background(), cfg2)
	if err != nil {
		t.Fatal(err)
	}
	if s := h2.String(); !strings.HasPrefix(s, "step  epoch  loss") || strings.Count(s, "\n") != 3 {
		t.Errorf("String() without epochs:\n%s", s)
	}
	if len((&History{}).Last()) != 0 {
		t.Errorf("Last of an empty history is not empty")
	}
}

// TestCancelDuringStep: an interrupt that arrives while the loss runs (in a
// notebook, the interpreter then returns zero values, a nil loss) ends the
// run with the context's error, keeps the steps done before, and writes the
// last completed step's checkpoint.
func TestCancelDuringStep(t *testing.T) {
	cfg, _ := baseConfig(t)
	cfg.CheckpointDir = t.TempDir()
	cfg.CheckpointEvery = 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loss := cfg.Loss
	calls := 0
	cfg.Loss = func(b Batch) (*tensor.Tensor, error) {
		calls++
		if calls == 4 {
			cancel()
			return nil, nil
		}
		return loss(b)
	}
	hist, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v does not wrap context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "interrupted during step 4 (epoch 1, batch 4)") {
		t.Errorf("error %q does not say which step was interrupted", err)
	}
	if hist.Len() != 3 {
		t.Errorf("%d steps recorded, want 3", hist.Len())
	}
	if latest, err := LatestCheckpoint(cfg.CheckpointDir); err != nil || !strings.HasSuffix(latest, "step-000003") {
		t.Errorf("checkpoint on interrupt: %v %v", latest, err)
	}
}
