package peft

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBaseFingerprintByHand(t *testing.T) {
	_, m := handNet(t)
	fp, err := m.BaseFingerprint("a")
	if err != nil {
		t.Fatal(err)
	}
	f := fp["fc"]
	// W = [[1, 2], [0, -1]]: mean 2/4, rms √(6/4).
	if len(f.Shape) != 2 || f.Shape[0] != 2 || f.Shape[1] != 2 || math.Abs(f.Stats[0]-0.5) > 1e-12 || math.Abs(f.Stats[1]-math.Sqrt(1.5)) > 1e-12 {
		t.Fatalf("fingerprint %+v, want shape [2 2], mean 0.5, rms %g", f, math.Sqrt(1.5))
	}
	// Merging an adapter leaves the fingerprint of the base as it was.
	if err := m.Merge("a", "b"); err != nil {
		t.Fatal(err)
	}
	g, _ := m.BaseFingerprint("a")
	if d := f.differs(g["fc"]); d != "" {
		t.Fatalf("after merging: %s", d)
	}
}

// TestLoadOtherBase saves an adapter trained on one toy model and loads it
// into a toy model of the same shapes with other weights: refused, naming
// the modules and the bases, the model unchanged. The same base with another
// adapter merged in, or a fresh copy, takes it.
func TestLoadOtherBase(t *testing.T) {
	dir := t.TempDir()
	cfg := LoraConfig{R: 2, Alpha: 2, TargetModules: []string{"query", "c_proj"}, BaseModelNameOrPath: "toy-1"}
	m, err := Inject(newToy(1), "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	randomiseB(t, m, DefaultAdapter, 2)
	if err := m.SaveAdapter(dir, DefaultAdapter); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var saved map[string]json.RawMessage
	if err := json.Unmarshal(raw, &saved); err != nil {
		t.Fatal(err)
	}
	var fp BaseFingerprint
	if err := json.Unmarshal(saved[FingerprintKey], &fp); err != nil || len(fp) != 4 {
		t.Fatalf("%s: %s (%v), want 4 modules", FingerprintKey, saved[FingerprintKey], err)
	}

	other := newToy(2)
	om, err := Inject(other, "mine", LoraConfig{R: 1, Alpha: 1, TargetModules: []string{"value"}, BaseModelNameOrPath: "toy-2"})
	if err != nil {
		t.Fatal(err)
	}
	before := snap(other)
	err = om.LoadAdapter(dir, "theirs")
	if err == nil {
		t.Fatal("an adapter trained on other weights loaded")
	}
	for _, w := range []string{"another base", `"toy-1"`, `["toy-2"]`, `module "layers.0.query"`, "weight statistics"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %s", err, w)
		}
	}
	before.same(t, other)
	if len(om.Adapters()) != 1 {
		t.Fatalf("adapters %q after the error", om.Adapters())
	}

	same := newToy(1)
	sm, err := Inject(same, "x", LoraConfig{R: 1, Alpha: 1, TargetModules: []string{"query"}})
	if err != nil {
		t.Fatal(err)
	}
	randomiseB(t, sm, "x", 3)
	if err := sm.Merge("x"); err != nil {
		t.Fatal(err)
	}
	if err := sm.LoadAdapter(dir, "theirs"); err != nil {
		t.Fatalf("same base with an adapter merged in: %v", err)
	}
	// Chained into the base for good, "x" makes it another base.
	if err := sm.Unmerge(); err != nil {
		t.Fatal(err)
	}
	if err := sm.ChainStep("x", nil); err != nil {
		t.Fatal(err)
	}
	if err := sm.LoadAdapter(dir, "again"); err == nil || !strings.Contains(err.Error(), "another base") {
		t.Fatalf("after a chain step: got %v", err)
	}
}

// TestMergeDifferentBases refuses to merge adapters recording different
// base_model_name_or_path, leaving the weights as they were.
func TestMergeDifferentBases(t *testing.T) {
	model := &net{Fc: newToy(1).Layers[0].Query}
	m, err := Inject(model, "a", LoraConfig{R: 1, Alpha: 1, TargetModules: []string{"fc"}, BaseModelNameOrPath: "gpt2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, base string }{{"b", ""}, {"c", "bert-base-uncased"}} {
		if err := m.AddAdapter(c.name, LoraConfig{R: 1, Alpha: 1, TargetModules: []string{"fc"}, BaseModelNameOrPath: c.base}); err != nil {
			t.Fatal(err)
		}
		randomiseB(t, m, c.name, 4)
	}
	randomiseB(t, m, "a", 5)
	if err := m.Merge("a", "b"); err != nil {
		t.Fatalf("a base and no recorded base: %v", err)
	}
	before := snap(model)
	err = m.Merge("c")
	want := `cannot merge adapters of different bases: "a" was trained on "gpt2", "c" on "bert-base-uncased"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
	before.same(t, model)
}
