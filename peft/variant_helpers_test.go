package peft

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// perturbAdapter adds N(0, 0.3²) noise to every tensor of the adapter, so
// that it changes the output (LoRA's B starts at zero) with magnitudes kept
// near their initial values.
func perturbAdapter(t *testing.T, m *Model, adapter string, seed uint64) {
	t.Helper()
	r := tensor.NewRNG(seed)
	n := 0
	for _, nm := range m.Tuners() {
		for _, nt := range nm.Module.(Tuner).AdapterTensors(adapter) {
			d := nt.Tensor.Data()
			for i, v := range tensor.Randn(r, nt.Tensor.Shape()...).Data() {
				d[i] += 0.3 * v
			}
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no tuner holds adapter %q", adapter)
	}
}

// checkMergeSaveLoad injects method into the toy model, perturbs the
// adapter, and checks: merging keeps the output within 1e-5 relative;
// unmerging restores every parameter within 1e-5 relative; the saved file
// holds wantKeys (with others allowed) and loading it into a fresh toy gives
// the same output. It returns the saved adapter_config.json.
func checkMergeSaveLoad(t *testing.T, method Method, wantKeys ...string) map[string]any {
	t.Helper()
	model := newToy(1)
	m, err := Inject(model, "", method)
	if err != nil {
		t.Fatal(err)
	}
	perturbAdapter(t, m, DefaultAdapter, 3)
	x := toyInput(2)
	want := model.Forward(x)
	before := snap(model)
	if err := m.Merge(); err != nil {
		t.Fatal(err)
	}
	if d := relDiff(model.Forward(x), want); d > 1e-5 {
		t.Errorf("merged output differs by %v relative", d)
	}
	if err := m.Unmerge(); err != nil {
		t.Fatal(err)
	}
	for _, p := range nn.NamedParameters(model) {
		if d := relDiff(p.Tensor, tensor.New(before[p.Name].data, p.Tensor.Shape()...)); d > 1e-5 {
			t.Errorf("%s differs by %v relative after unmerge", p.Name, d)
		}
	}
	if d := relDiff(model.Forward(x), want); d > 1e-5 {
		t.Errorf("unmerged output differs by %v relative", d)
	}

	dir := t.TempDir()
	if err := m.SaveAdapter(dir, DefaultAdapter); err != nil {
		t.Fatal(err)
	}
	keys := savedKeys(t, dir)
	for _, k := range wantKeys {
		if !slices.Contains(keys, k) {
			t.Errorf("saved file lacks %s (has %q)", k, keys)
		}
	}
	fresh := newToy(1)
	if _, err := Load(fresh, dir, ""); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(fresh.Forward(x), want); d > 1e-6 {
		t.Errorf("loaded adapter's output differs by %v", d)
	}
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}
