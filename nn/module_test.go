package nn

import (
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

type block struct {
	QProj Layer
	Norm  *LayerNorm
	Scale *tensor.Tensor `nn:"scale_vec"`
	Stats *tensor.Tensor `nn:",buffer"`
	Skip  *tensor.Tensor `nn:"-"`
	note  *tensor.Tensor // unexported: invisible
}

type net struct {
	Embed  *Embedding
	Blocks []*block
	Heads  map[string]*Linear
	Tied   *tensor.Tensor // same tensor as Embed.Weight: listed once
	Seq    *Sequential
	Count  int
}

func newNet() *net {
	r := tensor.NewRNG(1)
	n := &net{Embed: NewEmbedding(5, 4, r), Heads: map[string]*Linear{"b": NewLinear(4, 2, true, r), "a": NewLinear(4, 3, false, r)}}
	for i := 0; i < 2; i++ {
		n.Blocks = append(n.Blocks, &block{QProj: NewLinear(4, 4, true, r), Norm: NewLayerNorm(4), Scale: tensor.Ones(4).SetRequiresGrad(true), Stats: tensor.Zeros(4), Skip: tensor.Zeros(1), note: tensor.Zeros(1)})
	}
	n.Tied = n.Embed.Weight
	n.Seq = NewSequential(NewLinear(4, 4, true, r), NewActivation("relu"), NewLinear(4, 1, true, r))
	return n
}

func names(nts []NamedTensor) string {
	var s []string
	for _, nt := range nts {
		s = append(s, nt.Name)
	}
	return strings.Join(s, " ")
}

func TestNamesFollowPyTorchDottedPaths(t *testing.T) {
	n := newNet()
	want := "embed.weight blocks.0.q_proj.weight blocks.0.q_proj.bias blocks.0.norm.weight blocks.0.norm.bias blocks.0.scale_vec " +
		"blocks.1.q_proj.weight blocks.1.q_proj.bias blocks.1.norm.weight blocks.1.norm.bias blocks.1.scale_vec " +
		"heads.a.weight heads.b.weight heads.b.bias seq.0.weight seq.0.bias seq.2.weight seq.2.bias"
	if got := names(NamedParameters(n)); got != want {
		t.Fatalf("parameters:\n got %s\nwant %s", got, want)
	}
	if got := names(NamedBuffers(n)); got != "blocks.0.stats blocks.1.stats" {
		t.Fatalf("buffers: %s", got)
	}
	total, trainable := CountParameters(n)
	// embed 20, per block 20+4+8 = 32 (×2), heads 12+8+2, seq 20+5
	if total != 20+64+12+10+25 || trainable != total {
		t.Fatalf("CountParameters = %d, %d", total, trainable)
	}
	var mods []string
	for _, m := range Modules(n) {
		mods = append(mods, m.Name)
	}
	if got := strings.Join(mods, ","); got != ",embed,blocks.0,blocks.0.q_proj,blocks.0.norm,blocks.1,blocks.1.q_proj,blocks.1.norm,heads.a,heads.b,seq,seq.0,seq.1,seq.2" {
		t.Fatalf("modules: %s", got)
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{"QProj": "q_proj", "FC1": "fc1", "LayerNorm1": "layer_norm1", "SelfAttn": "self_attn", "Weight": "weight", "HTTPServer": "http_server", "Linear2": "linear2"} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// wrapped stands for an adapter that wraps a layer.
type wrapped struct {
	Base  Layer
	Extra *tensor.Tensor
}

func (w *wrapped) Forward(x *tensor.Tensor) *tensor.Tensor { return w.Base.Forward(x).Add(w.Extra) }

func TestReplaceGetFreeze(t *testing.T) {
	n := newNet()
	old, err := Get(n, "blocks.1.q_proj")
	if err != nil {
		t.Fatal(err)
	}
	w := &wrapped{Base: old.(Layer), Extra: tensor.Zeros(4).SetRequiresGrad(true)}
	Freeze(n)
	if err := Replace(n, "blocks.1.q_proj", w); err != nil {
		t.Fatal(err)
	}
	if n.Blocks[1].QProj != w {
		t.Fatal("field not replaced")
	}
	names := names(NamedParameters(n))
	if !strings.Contains(names, "blocks.1.q_proj.base.weight blocks.1.q_proj.base.bias blocks.1.q_proj.extra") {
		t.Fatalf("wrapped names: %s", names)
	}
	if _, trainable := CountParameters(n); trainable != 4 {
		t.Fatalf("after freeze and injection %d trainable, want 4", trainable)
	}
	// Replacing into a concrete-typed field is refused with the reason.
	err = Replace(n, "embed", &wrapped{})
	if err == nil || !strings.Contains(err.Error(), "has type *nn.Embedding") {
		t.Fatalf("replace into *Embedding field: %v", err)
	}
	// Map entries and Sequential slots can be replaced.
	if err := Replace(n, "heads.a", NewLinear(4, 7, true, tensor.NewRNG(2))); err != nil || n.Heads["a"].OutFeatures() != 7 {
		t.Fatalf("map replace: %v", err)
	}
	if err := Replace(n, "seq.1", NewActivation("tanh")); err != nil || n.Seq.Layers[1].(*Activation).Fn != "tanh" {
		t.Fatalf("sequential replace: %v", err)
	}
	_, err = Get(n, "blocks.1.qproj")
	if err == nil || !strings.Contains(err.Error(), `"blocks.1.q_proj"`) {
		t.Fatalf("near-miss suggestion missing: %v", err)
	}
}

func TestLoadStateDictAllOrNothing(t *testing.T) {
	a, b := newNet(), newNet()
	tensor.WithNoGrad(func() {
		for _, p := range Parameters(b) {
			p.Fill(0.5)
		}
	})
	if err := LoadStateDict(a, StateDict(b), true); err != nil {
		t.Fatal(err)
	}
	if a.Blocks[0].QProj.(*Linear).Weight.At(0, 0) != 0.5 {
		t.Fatal("values not copied")
	}
	sd := StateDict(b)
	sd[0] = NamedTensor{"embed.weight", tensor.Zeros(6, 4)} // wrong shape
	sd = append(sd, NamedTensor{"bogus", tensor.Zeros(1)})
	a.Seq.Layers[0].(*Linear).Bias.Fill(9)
	err := LoadStateDict(a, sd, true)
	if err == nil || !strings.Contains(err.Error(), "embed.weight: checkpoint (6,4), model (5,4)") || !strings.Contains(err.Error(), "unexpected bogus") {
		t.Fatalf("error: %v", err)
	}
	if a.Seq.Layers[0].(*Linear).Bias.At(0) != 9 {
		t.Fatal("a failed load changed the model")
	}
	if err := LoadStateDict(a, sd[1:len(sd)-1], true); err == nil || !strings.Contains(err.Error(), "missing embed.weight") {
		t.Fatalf("missing not reported: %v", err)
	}
	if err := LoadStateDict(a, sd[1:], false); err != nil {
		t.Fatalf("non-strict load: %v", err)
	}
}

func TestTrainEvalAndRandomStates(t *testing.T) {
	m := NewMLP([]int{3, 8, 2}, "relu", 0.5, tensor.NewRNG(3))
	Eval(m)
	if m.Layers[2].(*Dropout).Training {
		t.Fatal("Eval left dropout training")
	}
	x := tensor.Ones(4, 3)
	y1, y2 := m.Forward(x), m.Forward(x)
	if !equalData(y1, y2) {
		t.Fatal("eval forward not deterministic")
	}
	Train(m)
	states, err := RandomStates(m)
	if err != nil || len(states) != 1 {
		t.Fatalf("RandomStates: %v %v", states, err)
	}
	a := m.Forward(x)
	if err := SetRandomStates(m, states); err != nil {
		t.Fatal(err)
	}
	if b := m.Forward(x); !equalData(a, b) {
		t.Fatal("restored random state gave different dropout masks")
	}
	m.Layers[2].(*Dropout).RNG = tensor.Rand(nil)
	if _, err := RandomStates(m); err != nil {
		t.Fatalf("nil generator: %v", err)
	}
}

func equalData(a, b *tensor.Tensor) bool {
	if a.Len() != b.Len() {
		return false
	}
	for i, v := range a.Data() {
		if b.Data()[i] != v {
			return false
		}
	}
	return true
}

func TestClosestNames(t *testing.T) {
	names := []string{"q_proj", "k_proj", "v_proj", "out_proj", "q_proj", "fc1"}
	// q_prj: distance 1 to q_proj, 2 to k_proj and v_proj (ties keep order), 3 to out_proj.
	got := ClosestNames("q_prj", names, 3)
	if want := []string{"q_proj", "k_proj", "v_proj"}; !slices.Equal(got, want) {
		t.Fatalf("ClosestNames(q_prj) = %v, want %v", got, want)
	}
	if got := ClosestNames("x", names, 10); len(got) != 5 {
		t.Fatalf("ClosestNames with n beyond the candidates = %v, want the 5 distinct names", got)
	}
}
