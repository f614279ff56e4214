package optim

import (
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// parityTol bounds the difference from PyTorch relative to max(1, |want|):
// both run the same float32 formulas, so they differ by an ulp or so
// (measured: at most 1.2e-7, from PyTorch's vectorised operation order).
const parityTol = 1e-6

// parityCases mirror CASES in testdata/torch_optim.py: two parameters in two
// groups (one for adamw_defaults), with the same hyper-parameters.
var parityCases = []struct {
	name     string
	build    func(p0, p1 *tensor.Tensor) (Optimizer, error)
	schedule Schedule
	clip     float64
}{
	{"sgd_nesterov", func(p0, p1 *tensor.Tensor) (Optimizer, error) {
		return NewSGDGroups([]ParamGroup{{Params: []*tensor.Tensor{p0}, LR: 0.1, WeightDecay: 0.01}, {Params: []*tensor.Tensor{p1}, LR: 0.05}},
			SGDConfig{Momentum: 0.9, Nesterov: true})
	}, nil, 0},
	{"sgd_dampening", func(p0, p1 *tensor.Tensor) (Optimizer, error) {
		return NewSGDGroups([]ParamGroup{{Params: []*tensor.Tensor{p0}, LR: 0.1}, {Params: []*tensor.Tensor{p1}, LR: 0.02, WeightDecay: 0.1}},
			SGDConfig{Momentum: 0.8, Dampening: 0.3})
	}, nil, 0},
	{"adam_l2_clip", func(p0, p1 *tensor.Tensor) (Optimizer, error) {
		return NewAdamGroups([]ParamGroup{{Params: []*tensor.Tensor{p0}, LR: 0.01, WeightDecay: 0.1}, {Params: []*tensor.Tensor{p1}, LR: 0.003}}, AdamConfig{})
	}, nil, 0.5},
	{"adam_amsgrad", func(p0, p1 *tensor.Tensor) (Optimizer, error) {
		return NewAdamGroups([]ParamGroup{{Params: []*tensor.Tensor{p0}, LR: 0.02}, {Params: []*tensor.Tensor{p1}, LR: 0.01, WeightDecay: 0.05}},
			AdamConfig{Betas: [2]float64{0.8, 0.99}, Eps: 1e-6, AMSGrad: true})
	}, nil, 0},
	{"adamw_warmup_cosine", func(p0, p1 *tensor.Tensor) (Optimizer, error) {
		return NewAdamWGroups([]ParamGroup{{Params: []*tensor.Tensor{p0}, LR: 0.01, WeightDecay: 0.01}, {Params: []*tensor.Tensor{p1}, LR: 0.02, WeightDecay: 0.1}}, AdamConfig{})
	}, WarmupCosine{Warmup: 2, Total: 6, Min: 0.1}, 0},
	{"adamw_defaults", func(p0, p1 *tensor.Tensor) (Optimizer, error) {
		return NewAdamW([]*tensor.Tensor{p0, p1}, AdamConfig{})
	}, nil, 0},
}

// TestTorchParity runs testdata/torch_optim.py (PyTorch from Debian's
// python3-torch) and checks every step's parameters, learning rates and the
// final optimiser state of SGD, Adam and AdamW — with parameter groups,
// skipped gradients, clipping and a schedule — against PyTorch's.
func TestTorchParity(t *testing.T) {
	python := testenv.RequirePython(t, "torch")
	dir := t.TempDir()
	cmd := exec.Command(python, filepath.Join("testdata", "torch_optim.py"), dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s testdata/torch_optim.py: %v\n%s", python, err, out)
	}
	for _, pc := range parityCases {
		t.Run(pc.name, func(t *testing.T) {
			entries, meta, err := safetensors.Load(filepath.Join(dir, pc.name+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if meta["case"] != pc.name {
				t.Fatalf("the file of case %s says it holds case %q", pc.name, meta["case"])
			}
			steps, err := strconv.Atoi(meta["steps"])
			if err != nil || steps < 1 {
				t.Fatalf("metadata steps %q", meta["steps"])
			}
			ref := map[string]safetensors.Entry{}
			for _, e := range entries {
				ref[e.Name] = e
			}
			get := func(name string) safetensors.Entry {
				t.Helper()
				e, ok := ref[name]
				if !ok {
					t.Fatalf("the reference lacks %q", name)
				}
				return e
			}
			params := make([]*tensor.Tensor, 2)
			for i := range params {
				e := get(fmt.Sprintf("init.p%d", i))
				params[i] = tensor.New(e.Data, e.Shape...).SetRequiresGrad(true)
			}
			opt, err := pc.build(params[0], params[1])
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < steps; s++ {
				for i, p := range params {
					if g, ok := ref[fmt.Sprintf("grad.%d.p%d", s, i)]; ok {
						p.SetGrad(tensor.New(g.Data, g.Shape...))
					} else {
						p.SetGrad(nil)
					}
				}
				if pc.clip > 0 {
					ClipGradNorm(params, pc.clip)
				}
				Apply(opt, pc.schedule, s)
				for i, g := range opt.Groups() {
					want := float64(get(fmt.Sprintf("lr.%d.g%d", s, i)).Data[0])
					if math.Abs(g.LR-want) > 1e-6*math.Max(want, 1e-3) {
						t.Fatalf("step %d group %d: lr %v, PyTorch %v", s, i, g.LR, want)
					}
				}
				opt.Step()
				for i, p := range params {
					compareParity(t, fmt.Sprintf("step %d p%d", s, i), p.Data(), get(fmt.Sprintf("param.%d.p%d", s, i)).Data)
				}
			}
			st := opt.State()
			for i := range params {
				prefix := fmt.Sprintf("state.p%d.", i)
				seen := 0
				for name, e := range ref {
					slot, ok := strings.CutPrefix(name, prefix)
					if !ok {
						continue
					}
					if slot == "step" {
						if float32(st.Params[i].Step) != e.Data[0] {
							t.Errorf("p%d: step count %d, PyTorch %v", i, st.Params[i].Step, e.Data[0])
						}
						continue
					}
					seen++
					got, ok := st.Params[i].Slots[slot]
					if !ok {
						t.Errorf("p%d: no %q in graft's state", i, slot)
						continue
					}
					compareParity(t, fmt.Sprintf("p%d %s", i, slot), got.Data(), e.Data)
				}
				if seen != len(st.Params[i].Slots) {
					t.Errorf("p%d: graft keeps %d state tensors, PyTorch %d", i, len(st.Params[i].Slots), seen)
				}
			}
		})
	}
}

func compareParity(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch %d", what, len(got), len(want))
	}
	for j := range want {
		w := float64(want[j])
		if d := math.Abs(float64(got[j]) - w); d > parityTol*math.Max(1, math.Abs(w)) {
			t.Fatalf("%s[%d] = %.9g, PyTorch %.9g (difference %.3g)", what, j, got[j], w, d)
		}
	}
}
