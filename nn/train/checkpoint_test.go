package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// resumeNet is a small MLP whose every piece of state matters for an exact
// resume: weights, dropout drawing from its own generator, and a buffer
// counting the examples seen in training mode.
type resumeNet struct {
	Hidden *nn.Linear
	Drop   *nn.Dropout
	Out    *nn.Linear
	Seen   *tensor.Tensor `nn:",buffer"`
}

func newResumeNet(seed uint64) *resumeNet {
	r := tensor.NewRNG(seed)
	return &resumeNet{
		Hidden: nn.NewLinear(4, 16, true, r),
		Drop:   nn.NewDropout(0.2, seed+1),
		Out:    nn.NewLinear(16, 1, true, r),
		Seen:   tensor.Zeros(1),
	}
}

func (m *resumeNet) Forward(x *tensor.Tensor) *tensor.Tensor {
	h := m.Drop.Forward(m.Hidden.Forward(x).Tanh())
	if m.Drop.Training {
		m.Seen.Data()[0] += float32(x.Dim(0))
	}
	return m.Out.Forward(h)
}

// resumeConfig trains a resumeNet (built with modelSeed) on 50 examples in
// batches of 8 accumulated by 2 (4 steps per epoch), shuffled, with AdamW
// over two groups, a warm-up + cosine schedule, clipping and evaluation.
func resumeConfig(t testing.TB, modelSeed uint64, maxSteps int, dir string) (Config, *resumeNet) {
	m := newResumeNet(modelSeed)
	x := tensor.Randn(tensor.NewRNG(11), 50, 4)
	y := x.Sum(1).Sin().Reshape(50, 1)
	train, err := NewTensorDataset(x, y)
	if err != nil {
		t.Fatal(err)
	}
	ex := tensor.Randn(tensor.NewRNG(12), 12, 4)
	eval, _ := NewTensorDataset(ex, ex.Sum(1).Sin().Reshape(12, 1))
	opt, err := optim.NewAdamWGroups([]optim.ParamGroup{
		{Name: "hidden", Params: nn.Parameters(m.Hidden), LR: 2e-2, WeightDecay: 0.01},
		{Name: "out", Params: nn.Parameters(m.Out), LR: 1e-2},
	}, optim.AdamConfig{AMSGrad: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Model: m, Optimizer: opt, Schedule: optim.WarmupCosine{Warmup: 3, Total: 20, Min: 0.1},
		Step: func(b Batch) (*tensor.Tensor, map[string]float64, error) {
			d := m.Forward(b.X).Sub(b.Y)
			return d.Square().Mean(), map[string]float64{"mae": float64(d.Abs().Mean().Item())}, nil
		},
		Train: train, Eval: eval, EvalEvery: 3,
		BatchSize: 8, GradAccumulation: 2, MaxSteps: maxSteps, Shuffle: true, Seed: 7, ClipGradNorm: 1,
		CheckpointDir: dir, CheckpointEvery: 5,
	}
	return cfg, m
}

// stateBits returns the model's state dict as float32 bit patterns by name.
func stateBits(m nn.Module) map[string][]uint32 {
	out := map[string][]uint32{}
	for _, nt := range nn.StateDict(m) {
		bits := make([]uint32, nt.Tensor.Len())
		for i, v := range nt.Tensor.Data() {
			bits[i] = math.Float32bits(v)
		}
		out[nt.Name] = bits
	}
	return out
}

func compareBits(t *testing.T, what string, want, got map[string][]uint32) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d tensors, want %d", what, len(got), len(want))
	}
	for name, w := range want {
		g := got[name]
		if len(g) != len(w) {
			t.Fatalf("%s: %s has %d values, want %d", what, name, len(g), len(w))
		}
		for i := range w {
			if w[i] != g[i] {
				t.Fatalf("%s: %s[%d] = %v, want %v (bit-identical)", what, name, i, math.Float32frombits(g[i]), math.Float32frombits(w[i]))
			}
		}
	}
}

const resumeEnv = "GRAFT_TRAIN_RESUME_HELPER_DIR"

// TestResumeBitIdentical trains 2×9 steps straight, and 9 steps then a
// checkpoint then 9 more resumed in a new process (this test binary re-run
// with resumeEnv set), and requires bit-identical weights, buffers and history.
func TestResumeBitIdentical(t *testing.T) {
	if dir := os.Getenv(resumeEnv); dir != "" {
		resumeHelper(t, dir)
		return
	}
	const n = 9
	straightCfg, straight := resumeConfig(t, 1, 2*n, t.TempDir())
	want, err := Run(context.Background(), straightCfg)
	if err != nil {
		t.Fatal(err)
	}
	if want.Len() != 2*n || len(want.Evals) != 6 {
		t.Fatalf("straight run: %d steps, %d evals", want.Len(), len(want.Evals))
	}

	dir := t.TempDir()
	firstCfg, _ := resumeConfig(t, 1, n, filepath.Join(dir, "ckpt"))
	if _, err := Run(context.Background(), firstCfg); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeBitIdentical$", "-test.count=1")
	cmd.Env = append(os.Environ(), resumeEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("resume helper process: %v\n%s", err, out)
	}
	entries, _, err := safetensors.Load(filepath.Join(dir, "resumed.safetensors"))
	if err != nil {
		t.Fatalf("helper output: %v\n%s", err, out)
	}
	got := map[string][]uint32{}
	for _, e := range entries {
		bits := make([]uint32, len(e.Data))
		for i, v := range e.Data {
			bits[i] = math.Float32bits(v)
		}
		got[e.Name] = bits
	}
	compareBits(t, "resumed in a new process", stateBits(straight), got)
	wantJSON, _ := json.Marshal(want)
	gotJSON, err := os.ReadFile(filepath.Join(dir, "history.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(wantJSON) != string(gotJSON) {
		t.Errorf("history differs:\nstraight %s\nresumed  %s", wantJSON, gotJSON)
	}
}

// resumeHelper runs in the child process: a model built from another seed
// (so everything must come from the checkpoint) resumes to 2×9 steps.
func resumeHelper(t *testing.T, dir string) {
	cfg, m := resumeConfig(t, 999, 18, filepath.Join(dir, "ckpt"))
	hist, err := Resume(context.Background(), cfg, cfg.CheckpointDir)
	if err != nil {
		t.Fatal(err)
	}
	var entries []safetensors.Entry
	for _, nt := range nn.StateDict(m) {
		entries = append(entries, safetensors.Entry{Name: nt.Name, Shape: nt.Tensor.Shape(), Data: nt.Tensor.Data()})
	}
	if err := safetensors.Save(filepath.Join(dir, "resumed.safetensors"), entries, nil); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "history.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestResumeAfterCancel stops a run from OnProgress mid-epoch and resumes it
// in the same process from one checkpoint's directory.
func TestResumeAfterCancel(t *testing.T) {
	straightCfg, straight := resumeConfig(t, 1, 14, t.TempDir())
	want, err := Run(context.Background(), straightCfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg, _ := resumeConfig(t, 1, 14, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cfg.OnProgress = func(p Progress) {
		if p.Step == 6 {
			cancel()
		}
	}
	if _, err := Run(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v", err)
	}
	cfg2, m2 := resumeConfig(t, 2, 14, dir)
	got, err := Resume(context.Background(), cfg2, filepath.Join(dir, "step-000006"))
	if err != nil {
		t.Fatal(err)
	}
	compareBits(t, "resumed after cancel", stateBits(straight), stateBits(m2))
	wantJSON, _ := json.Marshal(want)
	gotJSON, _ := json.Marshal(got)
	if string(wantJSON) != string(gotJSON) {
		t.Errorf("history differs:\nstraight %s\nresumed  %s", wantJSON, gotJSON)
	}
}

func TestCheckpointLayout(t *testing.T) {
	dir := t.TempDir()
	cfg, m := resumeConfig(t, 1, 0, dir)
	cfg.Epochs, cfg.CheckpointEvery, cfg.KeepCheckpoints = 3, 0, 2
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	// One per epoch end (4 steps each), only the newest 2 kept, no temporaries.
	if fmt.Sprint(names) != "[step-000008 step-000012]" {
		t.Fatalf("checkpoint directory holds %v", names)
	}
	latest, err := LatestCheckpoint(dir)
	if err != nil || latest != filepath.Join(dir, "step-000012") {
		t.Fatalf("latest %q, %v", latest, err)
	}
	files, _ := os.ReadDir(latest)
	var fnames []string
	for _, f := range files {
		fnames = append(fnames, f.Name())
	}
	if fmt.Sprint(fnames) != "[model.safetensors optimizer.safetensors trainer.json]" {
		t.Errorf("checkpoint files %v", fnames)
	}

	// The model file holds the state dict, buffers included.
	model, _, err := safetensors.Load(filepath.Join(latest, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	saved := map[string][]uint32{}
	for _, e := range model {
		bits := make([]uint32, len(e.Data))
		for i, v := range e.Data {
			bits[i] = math.Float32bits(v)
		}
		saved[e.Name] = bits
	}
	compareBits(t, "model.safetensors", stateBits(m), saved)
	if m.Seen.Data()[0] != 3*50 {
		t.Errorf("buffer seen = %v, want 150", m.Seen.Data()[0])
	}

	// The optimiser file holds "<parameter>.<slot>" for every parameter.
	opt, meta, err := safetensors.Load(filepath.Join(latest, OptimizerFile))
	if err != nil {
		t.Fatal(err)
	}
	var onames []string
	for _, e := range opt {
		onames = append(onames, e.Name)
	}
	wantNames := []string{}
	for _, p := range []string{"hidden.bias", "hidden.weight", "out.bias", "out.weight"} {
		for _, s := range []string{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"} {
			wantNames = append(wantNames, p+"."+s)
		}
	}
	if fmt.Sprint(onames) != fmt.Sprint(wantNames) || meta["optimizer"] != "AdamW" {
		t.Errorf("optimizer.safetensors holds %v (metadata %v)", onames, meta)
	}

	// trainer.json: position, optimiser scalars, random states, fingerprint, history.
	js, err := os.ReadFile(filepath.Join(latest, TrainerFile))
	if err != nil {
		t.Fatal(err)
	}
	var ts map[string]any
	if err := json.Unmarshal(js, &ts); err != nil {
		t.Fatal(err)
	}
	opts := ts["optimizer"].(map[string]any)
	groups := opts["groups"].([]any)
	g0 := groups[0].(map[string]any)
	config := ts["config"].(map[string]any)
	params := config["params"].([]any)
	modelRNG := ts["model_rng"].(map[string]any)
	if ts["step"] != 12.0 || ts["epoch"] != 3.0 || ts["batch"] != 0.0 || opts["kind"] != "AdamW" || g0["name"] != "hidden" || g0["base_lr"] != 0.02 ||
		fmt.Sprint(g0["params"]) != "[hidden.weight hidden.bias]" || fmt.Sprint(opts["steps"]) != "[12 12 12 12]" ||
		config["batch_size"] != 8.0 || config["seed"] != 7.0 || len(params) != 4 ||
		fmt.Sprint(params[0]) != "map[name:hidden.weight shape:[16 4]]" || len(modelRNG) != 1 || modelRNG["drop"] == nil ||
		ts["loop_rng"] == nil || ts["history"].(map[string]any)["steps"] == nil {
		t.Errorf("trainer.json:\n%s", js)
	}
}

func TestResumeRejectsMismatch(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := baseConfig(t)
	cfg.CheckpointDir = dir
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	// A model whose weight has another shape.
	wide := newTinyNet(4)
	wide.W.Data()[0] = 42
	opt, _ := optim.NewAdam(nn.Parameters(wide), optim.AdamConfig{LR: 0.05})
	x := tensor.Zeros(64, 4)
	data, _ := NewTensorDataset(x, tensor.Zeros(64, 1))
	_, err := Resume(context.Background(), Config{Model: wide, Optimizer: opt, Loss: mse(wide), Train: data, BatchSize: 16, Epochs: 6, Shuffle: true, Seed: 3}, dir)
	if err == nil || !strings.Contains(err.Error(), `parameter "w" has shape (1,3) in the checkpoint, (1,4) in the model`) {
		t.Errorf("shape mismatch: %v", err)
	}
	if wide.W.Data()[0] != 42 {
		t.Errorf("a rejected checkpoint changed the model")
	}
	// The same model with another batch size and seed.
	cfg2, _ := baseConfig(t)
	cfg2.BatchSize, cfg2.Seed = 8, 4
	_, err = Resume(context.Background(), cfg2, dir)
	if err == nil || !strings.Contains(err.Error(), "batch size 16 in the checkpoint, 8 in the config; seed 3 in the checkpoint, 4 in the config") {
		t.Errorf("config mismatch: %v", err)
	}
	// Another optimiser kind.
	cfg3, m3 := baseConfig(t)
	cfg3.Optimizer, _ = optim.NewSGD(nn.Parameters(m3), optim.SGDConfig{LR: 0.1})
	if _, err = Resume(context.Background(), cfg3, dir); err == nil || !strings.Contains(err.Error(), `from an optimiser of kind "Adam"`) {
		t.Errorf("optimiser mismatch: %v", err)
	}
	if _, err := LatestCheckpoint(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no checkpoint in") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestResumeRejectsCorruptCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := baseConfig(t)
	cfg.CheckpointDir = dir
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	latest, _ := LatestCheckpoint(dir)
	path := filepath.Join(latest, ModelFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)-6], 0o644); err != nil {
		t.Fatal(err)
	}
	fresh, m := baseConfig(t)
	m.W.Data()[1] = 7
	before := stateBits(m)
	_, err = Resume(context.Background(), fresh, dir)
	if err == nil || !strings.Contains(err.Error(), ModelFile) {
		t.Fatalf("truncated model file: %v", err)
	}
	compareBits(t, "model after a failed resume", before, stateBits(m))
	if st := fresh.Optimizer.State(); st.Params[0].Step != 0 || fresh.Optimizer.Groups()[0].LR != 0.05 {
		t.Errorf("a failed resume changed the optimiser: %+v", st.Params[0])
	}
	// A corrupt trainer.json is an error too.
	if err := os.WriteFile(filepath.Join(latest, TrainerFile), []byte(`{"format": "graft-trainer/1", "step": `), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(context.Background(), fresh, latest); err == nil || !strings.Contains(err.Error(), TrainerFile) {
		t.Errorf("corrupt trainer.json: %v", err)
	}
}
