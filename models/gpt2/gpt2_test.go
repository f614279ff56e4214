package gpt2

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/models/internal/reftest"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// tiny returns a small configuration for fast tests.
func tiny() Config {
	c := Small()
	c.VocabSize, c.NPositions, c.NEmbd, c.NLayer, c.NHead = 50, 10, 16, 2, 2
	return c
}

func TestSmallParameterCount(t *testing.T) {
	m := mustNew(t, Small(), tensor.NewRNG(1))
	total, trainable := nn.CountParameters(m)
	if total != 124439808 || trainable != total {
		t.Errorf("GPT-2 small has %d parameters (%d trainable), want 124,439,808 (all trainable)", total, trainable)
	}
	t.Log(m)
	// Hugging Face's initialisation: N(0, 0.02²), c_proj N(0, 0.02²/24), biases 0, norms 1.
	for _, c := range []struct {
		name     string
		mean, sd float64
	}{
		{"wte.weight", 0, 0.02}, {"wpe.weight", 0, 0.02}, {"h.3.attn.c_attn.weight", 0, 0.02},
		{"h.3.attn.c_proj.weight", 0, 0.02 / math.Sqrt(24)}, {"h.11.mlp.c_fc.weight", 0, 0.02},
		{"h.11.mlp.c_proj.weight", 0, 0.02 / math.Sqrt(24)}, {"h.0.mlp.c_fc.bias", 0, 0}, {"ln_f.weight", 1, 0},
	} {
		var x *tensor.Tensor
		for _, p := range nn.NamedParameters(m) {
			if p.Name == c.name {
				x = p.Tensor
			}
		}
		mean, sd := moments(x.Data())
		if math.Abs(mean-c.mean) > 1e-3 || math.Abs(sd-c.sd) > 0.02*c.sd+1e-9 {
			t.Errorf("%s: mean %.5f sd %.5f, want %g and %g", c.name, mean, sd, c.mean, c.sd)
		}
	}
}

func moments(d []float32) (mean, sd float64) {
	for _, v := range d {
		mean += float64(v)
	}
	mean /= float64(len(d))
	for _, v := range d {
		sd += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, math.Sqrt(sd / float64(len(d)))
}

func TestParameterNames(t *testing.T) {
	m := mustNew(t, tiny(), nil)
	var names []string
	for _, p := range nn.NamedParameters(m) {
		names = append(names, p.Name)
	}
	want := []string{"wte.weight", "wpe.weight"}
	for i := range 2 {
		for _, n := range []string{"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
			"ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"} {
			want = append(want, "h."+string(rune('0'+i))+"."+n)
		}
	}
	want = append(want, "ln_f.weight", "ln_f.bias")
	if !slices.Equal(names, want) {
		t.Errorf("names\n%v\nwant\n%v", names, want)
	}
	if s := m.H[0].Attn.CAttn.(*Conv1D).Weight.Shape(); !slices.Equal(s, []int{16, 48}) {
		t.Errorf("c_attn weight %v, want (16,48): Conv1D stores (in, out)", s)
	}
}

func TestConv1D(t *testing.T) {
	c := &Conv1D{Weight: tensor.New([]float32{1, 2, 3, 4, 5, 6}, 2, 3), Bias: tensor.New([]float32{0.5, 0, -1}, 3)}
	y := c.Forward(tensor.New([]float32{1, 1, 2, -1}, 2, 1, 2))
	// [1 1]·W = [5 7 9], [2 -1]·W = [-2 -1 0]; plus the bias.
	if want := []float32{5.5, 7, 8, -1.5, -1, -1}; !slices.Equal(y.Data(), want) || !slices.Equal(y.Shape(), []int{2, 1, 3}) {
		t.Errorf("Conv1D gave %v %v, want %v (2,1,3)", y.Shape(), y.Data(), want)
	}
	if c.InFeatures() != 2 || c.OutFeatures() != 3 || !c.FanInFanOut() {
		t.Error("Conv1D reports the wrong widths or layout")
	}
}

// TestCausalAndPadding: changing a later token leaves earlier hidden states
// alone, and a padded sequence gives the same states at its real positions
// as when run alone.
func TestCausalAndPadding(t *testing.T) {
	m := mustNew(t, tiny(), tensor.NewRNG(3))
	nn.Eval(m)
	a := []int{3, 14, 15, 9, 2, 6}
	b := slices.Clone(a)
	b[4] = 33
	ha, _, err := m.ForwardIDs([][]int{a})
	if err != nil {
		t.Fatal(err)
	}
	hb, _, _ := m.ForwardIDs([][]int{b})
	d := 16
	if !slices.Equal(ha.Data()[:4*d], hb.Data()[:4*d]) {
		t.Error("a later token changed earlier hidden states")
	}
	if slices.Equal(ha.Data()[4*d:5*d], hb.Data()[4*d:5*d]) {
		t.Error("changing token 4 did not change its hidden state")
	}
	short := a[:3]
	alone, _, _ := m.ForwardIDs([][]int{short})
	both, lengths, _ := m.ForwardIDs([][]int{b, short})
	if !slices.Equal(lengths, []int{6, 3}) {
		t.Errorf("lengths %v", lengths)
	}
	got := both.Index(0, 1).Slice(0, 0, 3).Data()
	for i, v := range alone.Data() {
		if math.Abs(float64(v-got[i])) > 1e-5 {
			t.Fatalf("padded sequence differs at %d: %g vs %g", i, got[i], v)
		}
	}
	if _, _, err := m.ForwardIDs([][]int{{1, 50}}); err == nil || !strings.Contains(err.Error(), "token id 50 at position 1 of sequence 0 is outside the vocabulary of 50") {
		t.Errorf("out-of-vocabulary id: got %v", err)
	}
	if _, _, err := m.ForwardIDs([][]int{make([]int, 11)}); err == nil || !strings.Contains(err.Error(), "longer than the context of 10") {
		t.Errorf("too long: got %v", err)
	}
	logits := m.ForwardLogits(tensor.New([]float32{1, 2}, 1, 2))
	if !slices.Equal(logits.Shape(), []int{1, 2, 50}) {
		t.Errorf("logits %v, want (1,2,50)", logits.Shape())
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	m := mustNew(t, tiny(), tensor.NewRNG(4))
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := nn.StateDict(m)
	for i, nt := range nn.StateDict(got) {
		if !slices.Equal(nt.Tensor.Data(), want[i].Tensor.Data()) {
			t.Fatalf("%s changed in the round trip", nt.Name)
		}
	}
	if got.Drop.Training {
		t.Error("Load returned a model in training mode")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	m := mustNew(t, tiny(), tensor.NewRNG(5))
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	// A config whose width does not fit the weights.
	cfg := tiny()
	cfg.NEmbd = 20
	if err := hf.WriteConfig(dir, cfg); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	var me *hf.MismatchError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "wte.weight: checkpoint (50,16), model expects (50,20)") {
		t.Errorf("width mismatch: got %v", err)
	}
	// One layer more in the config than in the weights.
	cfg = tiny()
	cfg.NLayer = 3
	hf.WriteConfig(dir, cfg)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "(12 missing)") || !strings.Contains(err.Error(), "missing from the checkpoint: h.2.ln_1.weight") {
		t.Errorf("extra layer: got %v", err)
	}
	// A required key absent.
	os.WriteFile(filepath.Join(dir, hf.ConfigFile), []byte(`{"vocab_size": 50, "n_positions": 10, "n_embd": 16, "n_layer": 2}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `missing required key "n_head"`) {
		t.Errorf("missing n_head: got %v", err)
	}
	os.WriteFile(filepath.Join(dir, hf.ConfigFile), []byte(`{"vocab_size": 50, "n_positions": 10, "n_embd": 16, "n_layer": 2, "n_head": 3}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "n_embd = 16 is not divisible by n_head = 3") {
		t.Errorf("bad head count: got %v", err)
	}
	os.WriteFile(filepath.Join(dir, hf.ConfigFile), []byte(`{"vocab_size": 50, "n_positions": 10, "n_embd": 16, "n_layer": 2, "n_head": 2, "activation_function": "mish"}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `activation "mish" is not supported`) {
		t.Errorf("unknown activation: got %v", err)
	}
}

// TestBackward: a next-token loss reaches every parameter, the tied wte
// through both the embedding and the LM head.
func TestBackward(t *testing.T) {
	m := mustNew(t, tiny(), tensor.NewRNG(6))
	ids := []int{4, 8, 15, 16, 23, 42}
	x := tensor.New([]float32{4, 8, 15, 16, 23}, 1, 5)
	logits := m.ForwardLogits(x).Reshape(5, 50)
	nn.CrossEntropy(logits, ids[1:]).Backward()
	for _, p := range nn.NamedParameters(m) {
		g := p.Tensor.Grad()
		if g == nil || slices.Equal(g.Data(), make([]float32, g.Len())) {
			t.Errorf("%s got no gradient", p.Name)
		}
	}
	// Rows of wte for tokens neither input nor predicted still get a
	// gradient from the softmax of the LM head.
	if g := m.Wte.Weight.Grad().Data(); g[0] == 0 {
		t.Error("wte row 0 got no gradient from the tied LM head")
	}
}

func BenchmarkForward(b *testing.B) {
	cfg := Small()
	cfg.NLayer = 2
	m := mustNew(b, cfg, tensor.NewRNG(1))
	nn.Eval(m)
	x := tensor.Zeros(4, 64)
	restore := tensor.NoGrad()
	defer restore()
	for b.Loop() {
		m.Forward(x)
	}
}

func BenchmarkNewSmall(b *testing.B) {
	for b.Loop() {
		mustNew(b, Small(), tensor.NewRNG(1))
	}
}

// mustNew builds a model or fails the test.
func mustNew(tb testing.TB, cfg Config, r tensor.Rand) *Model {
	tb.Helper()
	m, err := New(cfg, r)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestNewRejectsBadConfig(t *testing.T) {
	cfg := tiny()
	cfg.NHead = 5
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "not divisible by n_head = 5") {
		t.Fatalf("New with n_head 5: err = %v, want one naming n_embd and n_head", err)
	}
}

// TestPrefixHook: an empty prefix leaves the model's outputs bit for bit;
// a prefix of P keys moves positions on by P (the context check counts
// them); a prefix of the wrong shape is a panic naming the shapes.
func TestPrefixHook(t *testing.T) {
	m := mustNew(t, tiny(), tensor.NewRNG(4))
	nn.Eval(m)
	ids := tensor.New([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	want := m.ForwardMask(ids, []int{3, 2}).Data()
	set := func(k, v *tensor.Tensor) {
		for _, b := range m.H {
			b.Attn.PrefixKey, b.Attn.PrefixValue = k, v
		}
	}
	set(tensor.Zeros(2, 0, 8), tensor.Zeros(2, 0, 8))
	if !slices.Equal(m.ForwardMask(ids, []int{3, 2}).Data(), want) {
		t.Error("an empty prefix changed the outputs")
	}
	set(tensor.Zeros(2, 8, 8), tensor.Zeros(2, 8, 8))
	reftest.MustPanic(t, "sequence of 3 tokens (after 8 prefix positions) is longer than the context of 10", func() { m.Forward(ids) })
	set(tensor.Zeros(3, 1, 8), tensor.Zeros(3, 1, 8))
	reftest.MustPanic(t, "prefix keys (3,1,8) and values (3,1,8) must both be (2 heads, P, 8)", func() { m.Forward(ids) })
}
