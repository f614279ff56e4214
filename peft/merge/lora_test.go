package merge

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/peft"
	"github.com/graftml/graft/tensor"
)

// loraNet has an nn.Linear (weight (out, in)) and a gpt2.Conv1D (weight (in,
// out)) to adapt, and a head left alone.
type loraNet struct {
	Fc1  nn.Layer
	Proj nn.Layer
	Head nn.Layer
}

func newLoraNet(seed uint64) *loraNet {
	r := tensor.NewRNG(seed)
	return &loraNet{Fc1: nn.NewLinear(6, 8, true, r), Proj: gpt2.NewConv1D(8, 8, 0.3, r), Head: nn.NewLinear(8, 3, true, r)}
}

func (n *loraNet) Forward(x *tensor.Tensor) *tensor.Tensor {
	return n.Head.Forward(n.Proj.Forward(n.Fc1.Forward(x).Tanh()).Tanh())
}

// loraLinear is a single linear layer: its output is linear in ΔW.
type loraLinear struct{ Fc nn.Layer }

func (n *loraLinear) Forward(x *tensor.Tensor) *tensor.Tensor { return n.Fc.Forward(x) }

// loraAdd adds a LoRA adapter and gives its B random values (B starts at 0).
func loraAdd(t *testing.T, m *peft.Model, name string, cfg peft.LoraConfig, seed uint64) {
	t.Helper()
	if m.Method(name) == nil {
		if err := m.AddAdapter(name, cfg); err != nil {
			t.Fatal(err)
		}
	}
	r := tensor.NewRNG(seed)
	for _, nm := range m.Tuners() {
		if l, ok := nm.Module.(*peft.LoraLayer); ok && l.LoraB[name] != nil {
			nn.NormalInit(l.LoraB[name].Weight, r, 0, 0.5)
			if mx := l.Mixer[name]; mx != nil {
				nn.NormalInit(mx.Weight, r, 0, 0.7)
			}
		}
	}
}

// loraPool returns loraNet with adapters "a" (r 2, α 4), "b" (r 3, α 3,
// rank-stabilised) and "c" (MoSLoRA, r 2) on Fc1 and Proj.
func loraPool(t *testing.T) (*peft.Model, *loraNet) {
	t.Helper()
	net := newLoraNet(1)
	ca := peft.NewLoraConfig(2, 4, "fc1", "proj")
	ca.Seed = 1
	m, err := peft.Inject(net, "a", ca)
	if err != nil {
		t.Fatal(err)
	}
	loraAdd(t, m, "a", ca, 11)
	cb := peft.NewLoraConfig(3, 3, "fc1", "proj")
	cb.UseRSLoRA, cb.Seed = true, 2
	loraAdd(t, m, "b", cb, 12)
	cc := peft.NewLoraConfig(2, 2, "fc1", "proj")
	cc.UseMixer, cc.Seed = true, 3
	loraAdd(t, m, "c", cc, 13)
	return m, net
}

// loraDelta returns the named adapter's update on module mod, (out, in).
func loraDelta(t *testing.T, m *peft.Model, mod, adapter string) []float64 {
	t.Helper()
	for _, nm := range m.Tuners() {
		if nm.Name != mod {
			continue
		}
		l := nm.Module.(*peft.LoraLayer)
		d, err := l.DeltaWeight(adapter)
		if err != nil {
			t.Fatal(err)
		}
		v := loraF64(d.Data())
		if _, ok := l.Base.(*gpt2.Conv1D); ok { // (in, out) → (out, in)
			out, in := l.OutFeatures(), l.InFeatures()
			tr := make([]float64, len(v))
			for i := 0; i < in; i++ {
				for o := 0; o < out; o++ {
					tr[o*in+i] = v[i*out+o]
				}
			}
			v = tr
		}
		return v
	}
	t.Fatalf("no module %q", mod)
	return nil
}

func loraMaxDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// loraRank returns the rank of the adapter's factors on module mod.
func loraRank(m *peft.Model, mod, adapter string) int {
	for _, nm := range m.Tuners() {
		if nm.Name == mod {
			return nm.Module.(*peft.LoraLayer).LoraA[adapter].Weight.Dim(0)
		}
	}
	return -1
}

func TestCombineExactModes(t *testing.T) {
	w := []float64{0.7, -1.3, 2}
	for _, tc := range []struct {
		opt       CombineOptions
		fc1, proj int // ranks of the result
	}{
		// Σr = 7 exceeds Fc1's min(6, 8): its exact sum goes through the full SVD.
		{CombineOptions{}, 6, 7},
		{CombineOptions{Mode: CombineCat}, 6, 7},
		{CombineOptions{Mode: CombineSVD, Rank: 8}, 6, 8},
	} {
		m, _ := loraPool(t)
		if err := CombineLoRA(m, []string{"a", "b", "c"}, w, "mix", tc.opt); err != nil {
			t.Fatal(err)
		}
		for _, mod := range []string{"fc1", "proj"} {
			want := make([]float64, len(loraDelta(t, m, mod, "a")))
			for i, a := range []string{"a", "b", "c"} {
				loraAxpy(want, w[i], loraDelta(t, m, mod, a))
			}
			if d := loraMaxDiff(loraDelta(t, m, mod, "mix"), want); d > 1e-5 {
				t.Errorf("%+v: module %s: combined ΔW differs from Σ wᵢΔWᵢ by %g", tc.opt, mod, d)
			}
		}
		if r1, r2 := loraRank(m, "fc1", "mix"), loraRank(m, "proj", "mix"); r1 != tc.fc1 || r2 != tc.proj {
			t.Errorf("%+v: ranks %d, %d, want %d, %d", tc.opt, r1, r2, tc.fc1, tc.proj)
		}
		if got := m.Active(); !slices.Equal(got, []string{"a"}) {
			t.Errorf("active adapters %q after combining, want the previous [a]", got)
		}
	}
}

// The combined adapter's forward pass equals the weighted sum of the
// adapters' contributions ΔWᵢ·x, with unequal weights.
func TestCombineForwardIsWeightedSum(t *testing.T) {
	net := &loraLinear{Fc: nn.NewLinear(5, 4, true, tensor.NewRNG(3))}
	m, err := peft.Inject(net, "a", peft.NewLoraConfig(2, 4, "fc"))
	if err != nil {
		t.Fatal(err)
	}
	loraAdd(t, m, "a", peft.LoraConfig{}, 21)
	loraAdd(t, m, "b", peft.NewLoraConfig(1, 3, "fc"), 22)
	w := []float64{1.8, -0.6}
	if err := CombineLoRA(m, []string{"a", "b"}, w, "mix", CombineOptions{}); err != nil {
		t.Fatal(err)
	}
	x := tensor.Randn(tensor.NewRNG(4), 7, 5)
	var base *tensor.Tensor
	if err := m.WithDisabled(func() { base = net.Forward(x) }); err != nil {
		t.Fatal(err)
	}
	out := func(a string) []float64 {
		if err := m.SetActive(a); err != nil {
			t.Fatal(err)
		}
		y := loraF64(net.Forward(x).Data())
		loraAxpy(y, -1, loraF64(base.Data()))
		return y
	}
	want := make([]float64, 7*4)
	loraAxpy(want, w[0], out("a"))
	loraAxpy(want, w[1], out("b"))
	if d := loraMaxDiff(out("mix"), want); d > 1e-5 {
		t.Errorf("combined adapter's output change differs from Σ wᵢ·ΔWᵢx by %g", d)
	}
}

// loraSquare returns a 2×2 linear layer with rank-1 adapters a (B₁A₁ = e₁e₁ᵀ)
// and b (B₂A₂ = e₂e₂ᵀ), scaling 1.
func loraSquare(t *testing.T) *peft.Model {
	t.Helper()
	net := &loraLinear{Fc: nn.NewLinear(2, 2, false, tensor.NewRNG(5))}
	m, err := peft.Inject(net, "a", peft.NewLoraConfig(1, 1, "fc"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddAdapter("b", peft.NewLoraConfig(1, 1, "fc")); err != nil {
		t.Fatal(err)
	}
	l := m.Tuners()[0].Module.(*peft.LoraLayer)
	copy(l.LoraA["a"].Weight.Data(), []float32{1, 0})
	copy(l.LoraB["a"].Weight.Data(), []float32{1, 0})
	copy(l.LoraA["b"].Weight.Data(), []float32{0, 1})
	copy(l.LoraB["b"].Weight.Data(), []float32{0, 1})
	return m
}

// PEFT's linear mode and LoraHub's composition add cross terms to the exact
// sum: with weights (1, 4), exact gives diag(1, 4), linear
// (√1·B₁ + √4·B₂)(√1·A₁ + √4·A₂) = [[1 2] [2 4]] and LoraHub's
// (B₁ + 4B₂)(A₁ + 4A₂) = [[1 4] [4 16]].
func TestCombineCrossTermsHandCase(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want []float64
	}{
		{CombineCat, []float64{1, 0, 0, 4}},
		{CombineSVD, []float64{1, 0, 0, 4}},
		{CombineLinear, []float64{1, 2, 2, 4}},
		{CombineLoraHub, []float64{1, 4, 4, 16}},
	} {
		m := loraSquare(t)
		if err := CombineLoRA(m, []string{"a", "b"}, []float64{1, 4}, "mix", CombineOptions{Mode: tc.mode, Rank: 2}); err != nil {
			t.Fatal(err)
		}
		if d := loraMaxDiff(loraDelta(t, m, "fc", "mix"), tc.want); d > 1e-6 {
			t.Errorf("mode %s: ΔW = %v, want %v", tc.mode, loraDelta(t, m, "fc", "mix"), tc.want)
		}
	}
	// With scalings 1 and 4 and weights 1: exact diag(1, 4); linear and
	// LoraHub's both (B₁ + 2B₂)(A₁ + 2A₂) = [[1 2] [2 4]].
	for mode, want := range map[string][]float64{CombineCat: {1, 0, 0, 4}, CombineLinear: {1, 2, 2, 4}, CombineLoraHub: {1, 2, 2, 4}} {
		m := loraSquare(t)
		m.Tuners()[0].Module.(*peft.LoraLayer).Scaling["b"] = 4
		if err := CombineLoRA(m, []string{"a", "b"}, nil, "mix", CombineOptions{Mode: mode}); err != nil {
			t.Fatal(err)
		}
		if got := loraDelta(t, m, "fc", "mix"); loraMaxDiff(got, want) > 1e-6 {
			t.Errorf("mode %s, scalings 1 and 4: ΔW = %v, want %v", mode, got, want)
		}
	}
	m := loraSquare(t)
	err := CombineLoRA(m, []string{"a", "b"}, []float64{1, -4}, "mix", CombineOptions{Mode: CombineLinear})
	if err == nil || !strings.Contains(err.Error(), "weight -4") {
		t.Errorf("linear mode with a negative weight: err %v", err)
	}
}

// SVD truncation is the best rank-r approximation of the exact sum: its
// squared Frobenius error is the sum of the squared tail singular values
// (Eckart–Young), which numpy computes independently.
func TestCombineSVDEckartYoung(t *testing.T) {
	build := func() *peft.Model {
		net := &loraLinear{Fc: nn.NewLinear(8, 7, true, tensor.NewRNG(6))}
		m, err := peft.Inject(net, "a", peft.NewLoraConfig(3, 6, "fc"))
		if err != nil {
			t.Fatal(err)
		}
		loraAdd(t, m, "a", peft.LoraConfig{}, 31)
		c := peft.NewLoraConfig(3, 3, "fc")
		c.Seed = 9
		loraAdd(t, m, "b", c, 32)
		return m
	}
	w := []float64{1, -0.5}
	m := build()
	exact := make([]float64, 7*8)
	loraAxpy(exact, w[0], loraDelta(t, m, "fc", "a"))
	loraAxpy(exact, w[1], loraDelta(t, m, "fc", "b"))
	var sv []float64
	testenv.RunJSON(t, filepath.Join("testdata", "lora_svd.py"), map[string]any{"rows": 7, "cols": 8, "data": exact}, &sv, "numpy")
	if len(sv) != 7 || sv[6] > 1e-6*sv[0] {
		t.Fatalf("numpy singular values %v: want 7 with the rank-6 sum's last ~0", sv)
	}
	for _, rank := range []int{0, 1, 2, 6} {
		m := build()
		if err := CombineLoRA(m, []string{"a", "b"}, w, "mix", CombineOptions{Mode: CombineSVD, Rank: rank}); err != nil {
			t.Fatal(err)
		}
		r := rank
		if r == 0 {
			r = 3 // the largest of the adapters' ranks
		}
		if got := loraRank(m, "fc", "mix"); got != r {
			t.Errorf("rank %d: the combined adapter has rank %d, want %d", rank, got, r)
		}
		got := loraDelta(t, m, "fc", "mix")
		var errSq, tail float64
		for i := range got {
			errSq += (got[i] - exact[i]) * (got[i] - exact[i])
		}
		for _, s := range sv[r:] {
			tail += s * s
		}
		if math.Abs(math.Sqrt(errSq)-math.Sqrt(tail)) > 1e-5*sv[0] {
			t.Errorf("rank %d: ‖ΔW − ΔW_r‖_F = %.6g, Eckart–Young's tail √Σσ² = %.6g", r, math.Sqrt(errSq), math.Sqrt(tail))
		}
	}
}

// loraVote is a test-only merge method: per entry, the sign of the sum wins
// and the entries agreeing with it are averaged (TIES without trimming). It
// records the base it was given.
type loraVote struct{ bases map[string]*tensor.Tensor }

func (v *loraVote) Name() string { return "vote" }

func (v *loraVote) MergeTensor(name string, base *tensor.Tensor, deltas []*tensor.Tensor) (*tensor.Tensor, error) {
	v.bases[name] = base
	out := make([]float32, base.Len())
	for j := range out {
		var sum float32
		for _, d := range deltas {
			sum += d.Data()[j]
		}
		var agree float32
		n := 0
		for _, d := range deltas {
			if x := d.Data()[j]; x != 0 && (x > 0) == (sum > 0) {
				agree += x
				n++
			}
		}
		if n > 0 {
			out[j] = agree / float32(n)
		}
	}
	return tensor.New(out, base.Shape()...), nil
}

func loraVoteRef(deltas [][]float64) []float64 {
	out := make([]float64, len(deltas[0]))
	for j := range out {
		sum := 0.0
		for _, d := range deltas {
			sum += d[j]
		}
		agree, n := 0.0, 0
		for _, d := range deltas {
			if d[j] != 0 && (d[j] > 0) == (sum > 0) {
				agree += d[j]
				n++
			}
		}
		if n > 0 {
			out[j] = agree / float64(n)
		}
	}
	return out
}

// A merge method runs on the dense ΔW of each module, with the base weight
// in (out, in) layout, and its result is kept exactly at full rank.
func TestCombineMethodOnDeltaW(t *testing.T) {
	m, net := loraPool(t)
	vote := &loraVote{bases: map[string]*tensor.Tensor{}}
	if err := CombineLoRA(m, []string{"a", "b", "c"}, nil, "vote", CombineOptions{Method: vote, Rank: 8}); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []string{"fc1", "proj"} {
		var ds [][]float64
		for _, a := range []string{"a", "b", "c"} {
			ds = append(ds, loraDelta(t, m, mod, a))
		}
		if d := loraMaxDiff(loraDelta(t, m, mod, "vote"), loraVoteRef(ds)); d > 1e-5 {
			t.Errorf("module %s: the combined ΔW differs from the method's merge by %g", mod, d)
		}
	}
	// Proj is a Conv1D (weight (in, out)): the method sees it as (out, in).
	pw := net.Proj.(*peft.LoraLayer).Base.(*gpt2.Conv1D).Weight
	b := vote.bases["proj"]
	if b == nil || b.Dim(0) != 8 || b.At(2, 5) != pw.At(5, 2) || b.At(5, 2) != pw.At(2, 5) {
		t.Errorf("the method's base for Proj is not the (out, in) transpose of the Conv1D weight")
	}
	if fc := vote.bases["fc1"]; fc == nil || fc.Dim(0) != 8 || fc.Dim(1) != 6 {
		t.Errorf("the method's base for Fc1 is %v, want (8, 6)", fc)
	}
	// At a lower rank the result is the method's merge truncated.
	m2, _ := loraPool(t)
	if err := CombineLoRA(m2, []string{"a", "b", "c"}, nil, "vote", CombineOptions{Method: vote}); err != nil {
		t.Fatal(err)
	}
	if r := loraRank(m2, "proj", "vote"); r != 3 {
		t.Errorf("default rank with a method %d, want 3 (the largest of the adapters')", r)
	}
	err := CombineLoRA(m2, []string{"a", "b"}, []float64{1, 2}, "vote2", CombineOptions{Method: vote})
	if err == nil || !strings.Contains(err.Error(), "nil weights") {
		t.Errorf("weights given with a method: err %v", err)
	}
}

// The combined adapter is an ordinary LoRA adapter: it shows in the summary,
// saves, and loads into a fresh copy of the base with the same outputs.
func TestCombineSaveLoad(t *testing.T) {
	m, net := loraPool(t)
	if err := CombineLoRA(m, []string{"a", "b", "c"}, []float64{0.5, 1, -1}, "mix", CombineOptions{Mode: CombineCat}); err != nil {
		t.Fatal(err)
	}
	if s := m.Summary().String(); !strings.Contains(s, "mix") {
		t.Errorf("the summary does not show the combined adapter:\n%s", s)
	}
	if err := m.SetActive("mix"); err != nil {
		t.Fatal(err)
	}
	x := tensor.Randn(tensor.NewRNG(8), 5, 6)
	want := net.Forward(x)
	dir := t.TempDir()
	if err := m.SaveAdapter(dir, "mix"); err != nil {
		t.Fatal(err)
	}
	fresh := newLoraNet(1)
	m2, err := peft.Load(fresh, dir, "mix")
	if err != nil {
		t.Fatal(err)
	}
	got := fresh.Forward(x)
	if d := loraMaxDiff(loraF64(got.Data()), loraF64(want.Data())); d > 1e-5 {
		t.Errorf("the loaded combined adapter's outputs differ by %g", d)
	}
	if r := loraRank(m2, "fc1", "mix"); r != 6 {
		t.Errorf("loaded rank on Fc1 %d, want 6", r)
	}
}

// loraState fingerprints a model's adapters and parameters.
func loraState(m *peft.Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q %q;", m.Adapters(), m.Active())
	for _, p := range nn.NamedParameters(m.Module()) {
		s := 0.0
		for _, v := range p.Tensor.Data() {
			s += float64(v)
		}
		fmt.Fprintf(&b, "%s %v %g;", p.Name, p.Tensor.Shape(), s)
	}
	return b.String()
}

func TestCombineErrors(t *testing.T) {
	m, _ := loraPool(t)
	dora := peft.NewLoraConfig(2, 2, "fc1", "proj")
	dora.UseDoRA = true
	if err := m.AddAdapter("dora", dora); err != nil {
		t.Fatal(err)
	}
	if err := m.AddAdapter("fconly", peft.NewLoraConfig(2, 2, "fc1")); err != nil {
		t.Fatal(err)
	}
	other := peft.NewLoraConfig(2, 2, "fc1", "proj")
	other.BaseModelNameOrPath = "other-base"
	if err := m.AddAdapter("other", other); err != nil {
		t.Fatal(err)
	}
	mine := peft.NewLoraConfig(2, 2, "fc1", "proj")
	mine.BaseModelNameOrPath = "my-base"
	if err := m.AddAdapter("mine", mine); err != nil {
		t.Fatal(err)
	}
	ia3 := peft.IA3Config{TargetModules: []string{"head"}, FeedforwardModules: []string{"head"}}
	if err := m.AddAdapter("ia3", ia3); err != nil {
		t.Fatal(err)
	}
	if err := m.AddAdapter("merged", peft.NewLoraConfig(2, 2, "fc1", "proj")); err != nil {
		t.Fatal(err)
	}
	if err := m.Merge("merged"); err != nil {
		t.Fatal(err)
	}
	before := loraState(m)
	for _, tc := range []struct {
		adapters []string
		weights  []float64
		name     string
		opt      CombineOptions
		want     string
	}{
		{nil, nil, "x", CombineOptions{}, "empty"},
		{[]string{"a", "nope"}, nil, "x", CombineOptions{}, `no adapter named "nope"`},
		{[]string{"a", "b"}, []float64{1}, "x", CombineOptions{}, "1 weights for 2 adapters"},
		{[]string{"a", "b"}, []float64{1, math.NaN()}, "x", CombineOptions{}, `weight 1 (adapter "b") is NaN`},
		{[]string{"a", "b"}, nil, "c", CombineOptions{}, `already has an adapter named "c"`},
		{[]string{"a", "b"}, nil, "", CombineOptions{}, "needs a name"},
		{[]string{"a", "a"}, nil, "x", CombineOptions{}, "listed twice"},
		{[]string{"a", "b"}, nil, "x", CombineOptions{Rank: -1}, "rank -1"},
		{[]string{"a", "b"}, nil, "x", CombineOptions{Mode: "sum"}, `mode "sum"`},
		{[]string{"a", "b"}, nil, "x", CombineOptions{Mode: CombineLinear}, "needs one rank"},
		{[]string{"a", "dora"}, nil, "x", CombineOptions{}, "DoRA"},
		{[]string{"a", "fconly"}, nil, "x", CombineOptions{}, "target different modules"},
		{[]string{"other", "mine"}, nil, "x", CombineOptions{}, "different bases"},
		{[]string{"a", "ia3"}, nil, "x", CombineOptions{}, "not a LoRA adapter"},
		{[]string{"a", "merged"}, nil, "x", CombineOptions{}, "unmerge it first"},
		{[]string{"a", "b"}, nil, "x", CombineOptions{Mode: CombineCat, Method: &loraVote{}}, "cannot go with it"},
	} {
		err := CombineLoRA(m, tc.adapters, tc.weights, tc.name, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CombineLoRA(%q, %v, %q, %+v): err %v, want one containing %q", tc.adapters, tc.weights, tc.name, tc.opt, err, tc.want)
		}
		if after := loraState(m); after != before {
			t.Fatalf("CombineLoRA(%q) changed the model on error", tc.adapters)
		}
	}
}
