package peft

import (
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

func wrapped(m *Model) []string {
	var out []string
	for _, nm := range m.Tuners() {
		out = append(out, nm.Name)
	}
	return out
}

// TestTargets checks the three ways of naming targets.
func TestTargets(t *testing.T) {
	cases := []struct {
		name string
		cfg  LoraConfig
		want []string
	}{
		{"suffix list", LoraConfig{R: 1, Alpha: 1, TargetModules: []string{"query", "layers.1.value"}},
			[]string{"layers.0.query", "layers.1.query", "layers.1.value"}},
		{"regex", LoraConfig{R: 1, Alpha: 1, TargetRegex: `layers\.\d\.(value|c_proj)`},
			[]string{"layers.0.value", "layers.0.c_proj", "layers.1.value", "layers.1.c_proj"}},
		{"regex must match the whole name", LoraConfig{R: 1, Alpha: 1, TargetRegex: `.*query`},
			[]string{"layers.0.query", "layers.1.query"}},
		{"all-linear", LoraConfig{R: 1, Alpha: 1, TargetModules: []string{AllLinear}},
			[]string{"layers.0.query", "layers.0.value", "layers.0.c_proj", "layers.1.query", "layers.1.value", "layers.1.c_proj"}},
	}
	for _, c := range cases {
		m, err := Inject(newToy(1), "", c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := wrapped(m); !slices.Equal(got, c.want) {
			t.Errorf("%s: wrapped %q, want %q", c.name, got, c.want)
		}
	}
}

// TestBadInput checks that errors name the module and numbers and that the
// model is left exactly as it was.
func TestBadInput(t *testing.T) {
	cases := []struct {
		cfg  LoraConfig
		want []string
	}{
		{LoraConfig{R: 1, Alpha: 1, TargetModules: []string{"querry"}}, []string{`"querry" matches no module`, `"query"`}},
		{LoraConfig{R: 1, Alpha: 1, TargetRegex: `layer\.0\.value`}, []string{"matches no module", `"layers.0.value"`}},
		{LoraConfig{R: 0, Alpha: 1, TargetModules: []string{"query"}}, []string{`"layers.0.query"`, "rank 0", "between 1 and 6"}},
		{LoraConfig{R: 2, Alpha: 1, TargetModules: []string{"query"}, RankPattern: map[string]int{`1\.query`: 7}}, []string{`"layers.1.query"`, "rank 7"}},
		{LoraConfig{R: 2, Alpha: -1, TargetModules: []string{"query"}}, []string{"lora_alpha -1"}},
		{LoraConfig{R: 2, Alpha: 0, TargetModules: []string{"value"}}, []string{"lora_alpha 0"}},
		{LoraConfig{R: 2, Alpha: 1, TargetModules: []string{"layers.0"}}, []string{`"layers.0"`, "not a layer"}},
		{LoraConfig{R: 2, Alpha: 1, TargetModules: []string{"query"}, ModulesToSave: []string{"clasifier"}}, []string{`"clasifier"`, `"classifier"`}},
	}
	for _, c := range cases {
		model := newToy(1)
		before := snap(model)
		_, err := Inject(model, "", c.cfg)
		if err == nil {
			t.Fatalf("%+v: no error", c.cfg)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
		before.same(t, model)
		if _, ok := model.Layers[0].Query.(*nn.Linear); !ok {
			t.Errorf("%+v: query replaced after an error", c.cfg)
		}
	}
	// A second adapter that fails leaves the first as it was.
	model := newToy(1)
	m, err := Inject(model, "", NewLoraConfig(2, 2, "query"))
	if err != nil {
		t.Fatal(err)
	}
	before := snap(model)
	if err := m.AddAdapter("b", NewLoraConfig(9, 2, "value")); err == nil || !strings.Contains(err.Error(), "rank 9") {
		t.Fatalf("error %v", err)
	}
	before.same(t, model)
	if err := m.AddAdapter("default", NewLoraConfig(1, 2, "value")); err == nil {
		t.Fatal("a duplicate adapter name was accepted")
	}
}

// TestAdapters checks add, activate, disable and delete on the outputs.
func TestAdapters(t *testing.T) {
	base := newToy(1)
	x := toyInput(2)
	y0 := base.Forward(x)
	model := newToy(1)
	m, err := Inject(model, "a", NewLoraConfig(2, 2, "query", "c_proj"))
	if err != nil {
		t.Fatal(err)
	}
	randomiseB(t, m, "a", 3)
	if err := m.AddAdapter("b", NewLoraConfig(3, 1, "query", "value")); err != nil {
		t.Fatal(err)
	}
	randomiseB(t, m, "b", 4)
	if got := m.Active(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("active %q after AddAdapter", got)
	}
	ya := model.Forward(x)
	if relDiff(ya, y0) < 1e-3 {
		t.Fatal("adapter a does not change the output")
	}
	// Only the active adapter trains.
	for _, p := range m.Summary().Params {
		if p.Trainable != (p.Adapter == "a") {
			t.Fatalf("%s trainable %v with a active", p.Name, p.Trainable)
		}
	}
	if err := m.SetActive("b"); err != nil {
		t.Fatal(err)
	}
	yb := model.Forward(x)
	if err := m.SetActive("a", "b"); err != nil {
		t.Fatal(err)
	}
	yab := model.Forward(x)
	if relDiff(yab, ya) < 1e-3 || relDiff(yab, yb) < 1e-3 {
		t.Fatal("both adapters active equals one of them")
	}
	var yOff *tensor.Tensor
	if err := m.WithDisabled(func() { yOff = model.Forward(x) }); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(yOff, y0); d != 0 {
		t.Errorf("disabled output differs from the base model's by %v", d)
	}
	if d := maxAbsDiff(model.Forward(x), yab); d != 0 {
		t.Errorf("re-enabled output differs by %v", d)
	}
	if err := m.SetActive("c"); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("SetActive of a missing adapter: %v", err)
	}
	if err := m.DeleteAdapter("a"); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(model.Forward(x), yb); d > 1e-6 {
		t.Errorf("after deleting a, output differs from b's by %v", d)
	}
	// c_proj held only a: it is unwrapped again.
	if _, ok := model.Layers[0].Proj.(*LoraLayer); ok {
		t.Error("c_proj still wrapped after deleting its only adapter")
	}
	if got := m.Adapters(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("adapters %q", got)
	}
}

// TestMergeUnmergeUnload checks the 1e-5 relative bounds.
func TestMergeUnmergeUnload(t *testing.T) {
	model := newToy(1)
	x := toyInput(2)
	w0 := snap(newToy(1))
	m, err := Inject(model, "", NewLoraConfig(2, 4, AllLinear))
	if err != nil {
		t.Fatal(err)
	}
	randomiseB(t, m, "default", 3)
	if err := m.AddAdapter("other", NewLoraConfig(1, 2, "query")); err != nil {
		t.Fatal(err)
	}
	randomiseB(t, m, "other", 4)
	if err := m.SetActive("default", "other"); err != nil {
		t.Fatal(err)
	}
	want := model.Forward(x)
	if err := m.Merge(); err != nil {
		t.Fatal(err)
	}
	if got := m.Merged(); len(got) != 2 {
		t.Fatalf("merged %q", got)
	}
	if d := relDiff(model.Forward(x), want); d > 1e-5 {
		t.Errorf("merged output differs by %v relative", d)
	}
	if err := m.Unmerge(); err != nil {
		t.Fatal(err)
	}
	for _, nm := range m.Tuners() {
		l := nm.Module.(*LoraLayer)
		orig := w0[nm.Name+".weight"].data
		if d := relDiff(l.aff.weight, tensor.New(orig, l.aff.weight.Shape()...)); d > 1e-5 {
			t.Errorf("%s: unmerged weight differs by %v relative", nm.Name, d)
		}
	}
	if d := relDiff(model.Forward(x), want); d > 1e-5 {
		t.Errorf("unmerged output differs by %v relative", d)
	}
	plain, err := m.MergeAndUnload()
	if err != nil {
		t.Fatal(err)
	}
	if len(nn.Modules(plain)) != len(nn.Modules(newToy(1))) {
		t.Fatal("wrappers left after MergeAndUnload")
	}
	if d := relDiff(plain.(*toy).Forward(x), want); d > 1e-5 {
		t.Errorf("unloaded merged model differs by %v relative", d)
	}
	if err := m.Merge(); err == nil {
		t.Error("an unloaded Model still merges")
	}

	// Unload without merging gives the base model back.
	model2 := newToy(1)
	m2, _ := Inject(model2, "", NewLoraConfig(2, 4, "query"))
	randomiseB(t, m2, "default", 5)
	if err := m2.Merge(); err != nil {
		t.Fatal(err)
	}
	base, err := m2.Unload()
	if err != nil {
		t.Fatal(err)
	}
	if d := relDiff(base.(*toy).Forward(x), newToy(1).Forward(x)); d > 1e-5 {
		t.Errorf("Unload: output differs from the base model's by %v", d)
	}
}

// TestModulesToSave checks the trained copy of a head.
func TestModulesToSave(t *testing.T) {
	model := newToy(1)
	x := toyInput(2)
	y0 := model.Forward(x)
	cfg := NewLoraConfig(2, 2, "query")
	cfg.ModulesToSave = []string{"classifier"}
	m, err := Inject(model, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Summary()
	// 2 query layers × 2·12 LoRA values, plus the head's copy (6·3 + 3).
	if s.Trainable != 2*24+21 {
		t.Errorf("trainable %d, want %d", s.Trainable, 2*24+21)
	}
	names := map[string]ParamInfoLite{}
	for _, p := range s.Params {
		names[p.Name] = ParamInfoLite{p.Trainable, p.Adapter}
	}
	if p := names["classifier.original_module.weight"]; p.Trainable || p.Adapter != "" {
		t.Errorf("original head %+v", p)
	}
	if p := names["classifier.modules_to_save.default.weight"]; !p.Trainable || p.Adapter != "default" {
		t.Errorf("head copy %+v", p)
	}
	if d := maxAbsDiff(model.Forward(x), y0); d != 0 {
		t.Errorf("fresh adapter changes the output by %v", d)
	}
	head := model.Classifier.(*ModulesToSave).Copies["default"].(*nn.Linear)
	head.Bias.Data()[0] += 1
	if model.Forward(x).At(0, 0)-y0.At(0, 0) != 1 {
		t.Error("the copy is not used")
	}
	if model.Classifier.(*ModulesToSave).Original.(*nn.Linear).Bias.Data()[0] == head.Bias.Data()[0] {
		t.Error("the copy shares its tensor with the original")
	}
}

// ParamInfoLite is what TestModulesToSave compares of nn.ParamInfo.
type ParamInfoLite struct {
	Trainable bool
	Adapter   string
}

// TestLoraPlus checks LoRA+'s groups and that an optimiser takes them.
func TestLoraPlus(t *testing.T) {
	model := newToy(1)
	cfg := NewLoraConfig(2, 2, "query", "c_proj")
	cfg.ModulesToSave = []string{"classifier"}
	m, err := Inject(model, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := m.LoraPlusGroups(1e-3, 16, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name   string
		n      int
		lr, wd float64
	}{{"groupA", 4 + 1, 1e-3, 0.01}, {"groupB", 4, 16e-3, 0.01}, {"groupB_no_decay", 1, 16e-3, 0}}
	if len(groups) != len(want) {
		t.Fatalf("%d groups", len(groups))
	}
	for i, w := range want {
		g := groups[i]
		if g.Name != w.name || len(g.Params) != w.n || g.LR != w.lr || g.WeightDecay != w.wd {
			t.Errorf("group %d: %s %d params lr %v wd %v, want %+v", i, g.Name, len(g.Params), g.LR, g.WeightDecay, w)
		}
	}
	for _, p := range groups[1].Params {
		if p.Dim(1) != 2 {
			t.Errorf("groupB holds a (%d, %d) tensor, not a B matrix", p.Dim(0), p.Dim(1))
		}
	}
	if _, err := optim.NewAdamWGroups(groups, optim.AdamConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.LoraPlusGroups(1e-3, 0, 0); err == nil {
		t.Error("ratio 0 accepted")
	}
}

// fixed holds its layer in a concrete-typed field, which cannot take a wrapper.
type fixed struct {
	A  nn.Layer
	Fc *nn.Linear
}

func TestUnwrappableField(t *testing.T) {
	model := &fixed{A: nn.NewLinear(3, 3, false, tensor.NewRNG(1)), Fc: nn.NewLinear(3, 3, false, tensor.NewRNG(2))}
	before := snap(model)
	_, err := Inject(model, "", NewLoraConfig(1, 1, AllLinear))
	if err == nil || !strings.Contains(err.Error(), `"fc" cannot be wrapped`) {
		t.Fatalf("error %v", err)
	}
	before.same(t, model)
	if _, ok := model.A.(*nn.Linear); !ok {
		t.Error("a was wrapped although fc failed")
	}
}
