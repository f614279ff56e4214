package peft

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// TestSharedMethodsAgainstTorch has torch read the VeRA and HRA adapters
// graft saves, check their keys against PEFT's layout and compute PEFT's
// forward formulas; graft's layers must agree within 1e-5 relative.
func TestSharedMethodsAgainstTorch(t *testing.T) {
	python := testenv.RequirePython(t, "torch")
	hra := NewHRAConfig(3, "up", "down")
	hra.RandomInit = true
	methods := []Method{NewVeraConfig(3, "up", "down"), hra}
	dir := t.TempDir()
	var args []string
	ours := map[string]map[string]*tensor.Tensor{}
	for _, method := range methods {
		m, err := Inject(newRagged(1), "", method)
		if err != nil {
			t.Fatal(err)
		}
		for _, nm := range m.Tuners() {
			if l, ok := nm.Module.(*VeraLayer); ok {
				randomise(l.LambdaB, "default", 3)
				randomise(l.LambdaD, "default", 4)
			}
		}
		kind := method.PeftType()
		sub := filepath.Join(dir, kind)
		if err := m.SaveAdapter(filepath.Join(sub, "adapter"), "default"); err != nil {
			t.Fatal(err)
		}
		var in []safetensors.Entry
		ours[kind] = map[string]*tensor.Tensor{}
		for i, nm := range m.Tuners() {
			l := nm.Module.(interface {
				nn.Layer
				InFeatures() int
				BaseLayer() nn.Layer
			})
			x := tensor.Randn(tensor.NewRNG(uint64(20+i)), 3, l.InFeatures())
			aff, err := affineOf(nm.Name, l.BaseLayer())
			if err != nil {
				t.Fatal(err)
			}
			w := tensor.FromFloat64(aff.weightOutIn(), aff.out, aff.in)
			var bias *tensor.Tensor
			for _, p := range nn.NamedParameters(l.BaseLayer()) {
				if p.Name == "bias" {
					bias = p.Tensor
				}
			}
			in = append(in, safetensors.Entry{Name: nm.Name + ".x", Shape: x.Shape(), Data: x.Data()},
				safetensors.Entry{Name: nm.Name + ".weight", Shape: w.Shape(), Data: w.Data()},
				safetensors.Entry{Name: nm.Name + ".bias", Shape: bias.Shape(), Data: bias.Data()})
			ours[kind][nm.Name] = l.Forward(x)
		}
		if err := safetensors.Save(filepath.Join(sub, "in.safetensors"), in, nil); err != nil {
			t.Fatal(err)
		}
		args = append(args, filepath.Join(sub, "adapter"), filepath.Join(sub, "in.safetensors"), filepath.Join(sub, "out.safetensors"))
	}
	cmd := exec.Command(python, append([]string{filepath.Join("testdata", "shared_ref.py")}, args...)...)
	cmd.Env = append(cmd.Environ(), "OMP_NUM_THREADS=2", "PYTHONPATH="+filepath.Join("..", "models", "internal", "reftest"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, method := range methods {
		kind := method.PeftType()
		ref, _, err := safetensors.Load(filepath.Join(dir, kind, "out.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if len(ref) != len(ours[kind]) {
			t.Fatalf("%s: torch computed %d modules, graft has %d", kind, len(ref), len(ours[kind]))
		}
		for _, e := range ref {
			if d := relDiff(ours[kind][e.Name], tensor.New(e.Data, e.Shape...)); d > 1e-5 {
				t.Errorf("%s %s: graft and torch differ by %v relative", kind, e.Name, d)
			}
		}
	}
}
