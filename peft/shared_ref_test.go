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
	for _, method := range []Method{NewVeraConfig(3, "up", "down"), hra} {
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
		dir := t.TempDir()
		if err := m.SaveAdapter(filepath.Join(dir, "adapter"), "default"); err != nil {
			t.Fatal(err)
		}
		var in []safetensors.Entry
		ours := map[string]*tensor.Tensor{}
		for i, nm := range m.Tuners() {
			l := nm.Module.(interface {
				nn.Layer
				InFeatures() int
				OutFeatures() int
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
			ours[nm.Name] = l.Forward(x)
		}
		if err := safetensors.Save(filepath.Join(dir, "in.safetensors"), in, nil); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(python, filepath.Join("testdata", "shared_ref.py"), filepath.Join(dir, "adapter"),
			filepath.Join(dir, "in.safetensors"), filepath.Join(dir, "out.safetensors"))
		cmd.Env = append(cmd.Environ(), "OMP_NUM_THREADS=2", "PYTHONPATH="+filepath.Join("..", "models", "internal", "reftest"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", method.PeftType(), err, out)
		}
		ref, _, err := safetensors.Load(filepath.Join(dir, "out.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if len(ref) != len(ours) {
			t.Fatalf("%s: torch computed %d modules, graft has %d", method.PeftType(), len(ref), len(ours))
		}
		for _, e := range ref {
			if d := relDiff(ours[e.Name], tensor.New(e.Data, e.Shape...)); d > 1e-5 {
				t.Errorf("%s %s: graft and torch differ by %v relative", method.PeftType(), e.Name, d)
			}
		}
	}
}
