package bert

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
	c := Base()
	c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxPositionEmbeddings = 30, 16, 2, 2, 24, 12
	return c
}

func TestBaseParameterCount(t *testing.T) {
	m := mustNew(t, Base(), tensor.NewRNG(1))
	total, trainable := nn.CountParameters(m)
	if total != 109482240 || trainable != total {
		t.Errorf("BERT-base has %d parameters (%d trainable), want 109,482,240 (all trainable)", total, trainable)
	}
	t.Log(m)
	w := m.Embeddings.WordEmbeddings.Weight
	if !slices.Equal(w.Data()[:768], make([]float32, 768)) || w.Data()[768] == 0 {
		t.Error("the [PAD] row (0) of the word embeddings should be zero and the others random")
	}
	var sum, sq float64
	for _, v := range m.Encoder.Layer[5].Intermediate.Dense.(*nn.Linear).Weight.Data() {
		sum, sq = sum+float64(v), sq+float64(v)*float64(v)
	}
	n := float64(768 * 3072)
	if mean, sd := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n)); math.Abs(mean) > 1e-4 || math.Abs(sd-0.02) > 2e-4 {
		t.Errorf("intermediate weights: mean %g sd %g, want N(0, 0.02²)", mean, sd)
	}
	m.Pooler = nil
	if total, _ := nn.CountParameters(m); total != 109482240-768*768-768 {
		t.Errorf("without pooler: %d parameters", total)
	}
}

func TestParameterNames(t *testing.T) {
	c := mustNewClassifier(t, tiny(), 3, nil)
	var names []string
	for _, p := range nn.NamedParameters(c) {
		names = append(names, p.Name)
	}
	want := []string{"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
		"bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias"}
	for _, l := range []string{"0", "1"} {
		for _, n := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
			"attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"} {
			want = append(want, "bert.encoder.layer."+l+"."+n+".weight", "bert.encoder.layer."+l+"."+n+".bias")
		}
	}
	want = append(want, "bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias")
	if !slices.Equal(names, want) {
		t.Errorf("names\n%v\nwant\n%v", names, want)
	}
}

// TestPadding: a padded sequence gives the same states at its real positions,
// and the same pooled features and logits, as when run alone; segment ids
// change the result.
func TestPadding(t *testing.T) {
	c := mustNewClassifier(t, tiny(), 2, tensor.NewRNG(2))
	nn.Eval(c)
	short := []int{2, 7, 11}
	long := []int{5, 6, 7, 8, 9, 10, 11}
	alone, _ := c.Input([][]int{short}, nil)
	both, err := c.Input([][]int{long, short}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(both.Lengths, []int{7, 3}) || both.IDs.At(1, 5) != 0 {
		t.Errorf("lengths %v, padding id %g", both.Lengths, both.IDs.At(1, 5))
	}
	s1, p1 := c.Bert.Encode(alone)
	s2, p2 := c.Bert.Encode(both)
	near(t, "sequence", s2.Index(0, 1).Slice(0, 0, 3).Data(), s1.Data())
	near(t, "pooled", p2.Index(0, 1).Data(), p1.Data())
	near(t, "logits", c.Logits(both).Index(0, 1).Data(), c.Logits(alone).Data())

	seg, _ := c.Input([][]int{short}, [][]int{{0, 1, 1}})
	if _, p3 := c.Bert.Encode(seg); slices.Equal(p3.Data(), p1.Data()) {
		t.Error("segment ids did not change the output")
	}
	for _, bad := range []struct {
		ids, types [][]int
		want       string
	}{
		{[][]int{{1, 30}}, nil, "token id 30 at position 1 of sequence 0 is outside the vocabulary of 30"},
		{[][]int{{1, 2}}, [][]int{{0, 2}}, "token type 2 at position 1 of sequence 0 is outside type_vocab_size = 2"},
		{[][]int{{1, 2}}, [][]int{{0}}, "sequence 0 has 2 tokens but 1 token types"},
		{[][]int{make([]int, 13)}, nil, "longer than max_position_embeddings = 12"},
		{[][]int{{}}, nil, "sequence 0 is empty"},
	} {
		if _, err := c.Input(bad.ids, bad.types); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Input(%v, %v): got %v, want %q", bad.ids, bad.types, err, bad.want)
		}
	}
}

func near(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("%s differs at %d: %g vs %g", what, i, got[i], want[i])
		}
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	c := mustNewClassifier(t, tiny(), 4, tensor.NewRNG(3))
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := LoadClassifier(dir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.NumLabels != 4 || got.Bert.Config.ID2Label["3"] != "LABEL_3" {
		t.Errorf("loaded %d labels, id2label %v", got.NumLabels, got.Bert.Config.ID2Label)
	}
	want := nn.StateDict(c)
	for i, nt := range nn.StateDict(got) {
		if nt.Name != want[i].Name || !slices.Equal(nt.Tensor.Data(), want[i].Tensor.Data()) {
			t.Fatalf("%s changed in the round trip", nt.Name)
		}
	}
	if got.Dropout.Training || got.Bert.Embeddings.Dropout.Training {
		t.Error("LoadClassifier returned a model in training mode")
	}
	// The classifier checkpoint read as a base model: head skipped.
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Pooler == nil || !slices.Equal(m.Pooler.Dense.(*nn.Linear).Weight.Data(), c.Bert.Pooler.Dense.(*nn.Linear).Weight.Data()) {
		t.Error("pooler not loaded")
	}
	// A head of another size is a shape mismatch.
	_, err = LoadClassifier(dir, 3, nil)
	var me *hf.MismatchError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "classifier.weight: checkpoint (4,16), model expects (3,16)") {
		t.Errorf("3 labels on a 4-label checkpoint: got %v", err)
	}
	// A model saved without a pooler loads without one.
	m.Pooler = nil
	nopool := t.TempDir()
	if err := m.Save(nopool); err != nil {
		t.Fatal(err)
	}
	if m2, err := Load(nopool); err != nil || m2.Pooler != nil {
		t.Errorf("no-pooler checkpoint: pooler %v, err %v", m2 != nil && m2.Pooler != nil, err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if err := mustNew(t, tiny(), tensor.NewRNG(4)).Save(dir); err != nil {
		t.Fatal(err)
	}
	cfg := tiny()
	cfg.IntermediateSize = 32
	hf.WriteConfig(dir, cfg)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "(6 shape mismatches)") ||
		!strings.Contains(err.Error(), "encoder.layer.0.intermediate.dense.weight: checkpoint (24,16), model expects (32,16)") {
		t.Errorf("feed-forward width mismatch: got %v", err)
	}
	os.WriteFile(filepath.Join(dir, hf.ConfigFile), []byte(`{"vocab_size": 30, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 24}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `missing required keys "max_position_embeddings", "type_vocab_size"`) {
		t.Errorf("missing keys: got %v", err)
	}
	cfg = tiny()
	cfg.PositionEmbeddingType = "relative_key"
	hf.WriteConfig(dir, cfg)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `position_embedding_type "relative_key" is not supported`) {
		t.Errorf("relative positions: got %v", err)
	}
}

// TestBackward: a classification loss through the features reaches every
// parameter.
func TestBackward(t *testing.T) {
	c := mustNewClassifier(t, tiny(), 3, tensor.NewRNG(5))
	in, err := c.Input([][]int{{1, 2, 3, 4}, {5, 6}}, [][]int{{0, 0, 1, 1}, {0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	nn.CrossEntropy(c.Logits(in), []int{2, 0}).Backward()
	for _, p := range nn.NamedParameters(c) {
		g := p.Tensor.Grad()
		if g == nil || slices.Equal(g.Data(), make([]float32, g.Len())) {
			t.Errorf("%s got no gradient", p.Name)
		}
	}
}

func BenchmarkClassifierForward(b *testing.B) {
	cfg := Base()
	cfg.NumHiddenLayers = 2
	c := mustNewClassifier(b, cfg, 2, tensor.NewRNG(1))
	nn.Eval(c)
	in := Input{IDs: tensor.Zeros(4, 64)}
	restore := tensor.NoGrad()
	defer restore()
	for b.Loop() {
		c.Logits(in)
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

// mustNewClassifier builds a classifier or fails the test.
func mustNewClassifier(tb testing.TB, cfg Config, labels int, r tensor.Rand) *Classifier {
	tb.Helper()
	c, err := NewClassifier(cfg, labels, r)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestPrefixHook: an empty prefix leaves the outputs bit for bit; a prefix
// of P keys moves positions on by P (the position check counts them); a
// prefix of the wrong shape is a panic naming the shapes.
func TestPrefixHook(t *testing.T) {
	m := mustNewClassifier(t, tiny(), 2, tensor.NewRNG(4))
	nn.Eval(m)
	in := Input{IDs: tensor.New([]float32{1, 2, 3, 4, 5, 6}, 2, 3), Lengths: []int{3, 2}}
	want := m.Logits(in).Data()
	set := func(k, v *tensor.Tensor) {
		for _, l := range m.Bert.Encoder.Layer {
			l.Attention.Self.PrefixKey, l.Attention.Self.PrefixValue = k, v
		}
	}
	set(tensor.Zeros(2, 0, 8), tensor.Zeros(2, 0, 8))
	if !slices.Equal(m.Logits(in).Data(), want) {
		t.Error("an empty prefix changed the outputs")
	}
	set(tensor.Zeros(2, 10, 8), tensor.Zeros(2, 10, 8))
	reftest.MustPanic(t, "sequence of 3 tokens (after 10 prefix positions) is longer than max_position_embeddings = 12", func() { m.Logits(in) })
	set(tensor.Zeros(2, 1, 8), nil)
	reftest.MustPanic(t, "prefix keys (2,1,8) and values () must both be (2 heads, P, 8)", func() { m.Logits(in) })
}
