package prompt

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/data/shapes"
	"github.com/graftml/graft/models/clip"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// tiny returns a randomly initialised TinyConfig CLIP for the shapes
// vocabulary (no pre-training: the unit tests check arithmetic, not
// learning).
func tiny(t *testing.T) (*clip.Model, *shapes.Task) {
	t.Helper()
	task := shapes.NewTask()
	m, err := clip.New(TinyConfig(task.Vocab.Size(), shapes.PadID, shapes.BosID, shapes.EosID), tensor.NewRNG(5))
	if err != nil {
		t.Fatal(err)
	}
	return m, task
}

func close32(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

// CoOp whose context starts as "a photo of a" is, before training, the
// zero-shot classifier of the template "a photo of a {}".
func TestCoOpFromPhraseIsZeroShot(t *testing.T) {
	m, task := tiny(t)
	classes := task.BaseNames()
	c, err := NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 4, InitPhrase: "a photo of a"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.TextFeatures(classes)
	if err != nil {
		t.Fatal(err)
	}
	z, err := (&ZeroShot{Model: m, Tokenizer: task.Vocab}).TextFeatures(classes)
	if err != nil {
		t.Fatal(err)
	}
	if !close32(normalize(g).Data(), z.Data(), 1e-6) {
		t.Error("CoOp initialised from \"a photo of a\" differs from zero-shot's template")
	}
}

// The prompts put the context, the class name, end-of-text and padding
// where CoOp's class token positions say.
func TestLayoutPositions(t *testing.T) {
	m, task := tiny(t)
	emb := m.TextModel.Embeddings.TokenEmbedding.Weight
	row := func(id int) []float32 { return emb.Slice(0, id, id+1).Data() }
	ctx := tensor.Randn(tensor.NewRNG(2), 1, 4, 32)
	cv := func(i int) []float32 { return ctx.Slice(1, i, i+1).Data() }
	red, _ := task.Vocab.Encode("red")
	stripes, _ := task.Vocab.Encode("stripes")
	R, S, B, E, P := red[0], stripes[0], shapes.BosID, shapes.EosID, shapes.PadID
	for _, c := range []struct {
		position string
		rows     []any // a token id or the index of a context vector (as a string)
		eot      []int
	}{
		{PositionEnd, []any{B, "0", "1", "2", "3", R, S, E}, []int{7, 6}},
		{PositionMiddle, []any{B, "0", "1", R, S, "2", "3", E}, []int{7, 6}},
		{PositionFront, []any{B, R, S, "0", "1", "2", "3", E}, []int{7, 6}},
	} {
		l, err := newLayout(m, task.Vocab, []string{"red stripes", "red"}, 4, c.position)
		if err != nil {
			t.Fatal(err)
		}
		seqs, eot := l.sequences(ctx)
		if !slices.Equal(eot, c.eot) || !slices.Equal(seqs.Shape(), []int{2, 8, 32}) {
			t.Fatalf("%s: eot %v shape %v", c.position, eot, seqs.Shape())
		}
		for i, want := range c.rows {
			var w []float32
			switch v := want.(type) {
			case int:
				w = row(v)
			case string:
				w = cv(int(v[0] - '0'))
			}
			if got := seqs.Index(0, 0).Index(0, i).Data(); !slices.Equal(got, w) {
				t.Errorf("%s: position %d of \"red stripes\" is not %v", c.position, i, want)
			}
		}
		// "red" (one token) ends one earlier and is padded.
		if got := seqs.Index(0, 1).Index(0, 7).Data(); !slices.Equal(got, row(P)) {
			t.Errorf("%s: the last position of \"red\" is not padding", c.position)
		}
	}
}

// With the meta-net's output layer zero, CoCoOp's shift is zero and its
// logits are CoOp's with the same context.
func TestCoCoOpWithZeroShiftIsCoOp(t *testing.T) {
	m, task := tiny(t)
	classes := task.NewNames()
	cc, err := NewCoCoOp(m, task.Vocab, classes, CoCoOpConfig{M: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	cc.Linear2.Weight.Fill(0)
	cc.Linear2.Bias.Fill(0)
	co, err := NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 3})
	if err != nil {
		t.Fatal(err)
	}
	co.Context = cc.Context
	images := tensor.Randn(tensor.NewRNG(6), 5, 3, 16, 16)
	a, err := cc.Logits(images, classes)
	if err != nil {
		t.Fatal(err)
	}
	b, err := co.Logits(images, classes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Shape(), []int{5, 12}) || !close32(a.Data(), b.Data(), 1e-4) {
		t.Errorf("CoCoOp with zero shift %v differs from CoOp", a.Shape())
	}
}

// The gradients of the cross-entropy through each method's prompt path
// (text encoder, meta-net, vision prompts and coupling) match finite
// differences.
func TestGradCheck(t *testing.T) {
	task := shapes.NewTask()
	cfg := TinyConfig(task.Vocab.Size(), shapes.PadID, shapes.BosID, shapes.EosID)
	for _, e := range []*int{&cfg.TextConfig.HiddenSize, &cfg.VisionConfig.HiddenSize, &cfg.ProjectionDim, &cfg.TextConfig.ProjectionDim, &cfg.VisionConfig.ProjectionDim} {
		*e = 8
	}
	cfg.TextConfig.NumAttentionHeads, cfg.VisionConfig.NumAttentionHeads = 2, 2
	cfg.TextConfig.IntermediateSize, cfg.VisionConfig.IntermediateSize = 16, 16
	m, err := clip.New(cfg, tensor.NewRNG(5))
	if err != nil {
		t.Fatal(err)
	}
	classes := []string{"red stripes", "blue dots", "cyan"}
	images := tensor.Randn(tensor.NewRNG(7), 3, 3, 16, 16)
	labels := []int{0, 2, 1}
	if len(nn.TrainableParameters(m)) == 0 {
		t.Fatal("no parameters")
	}
	loss := func(l Learner) func(...*tensor.Tensor) *tensor.Tensor {
		return func(...*tensor.Tensor) *tensor.Tensor {
			logits, err := l.Logits(images, classes)
			if err != nil {
				t.Fatal(err)
			}
			return nn.CrossEntropy(logits, labels)
		}
	}
	coop, err := NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 2, Position: PositionMiddle, Std: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	csc, err := NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 2, ClassSpecific: true, Std: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	cocoop, err := NewCoCoOp(m, task.Vocab, classes, CoCoOpConfig{M: 2, Std: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Away from the ReLU's kink, which finite differences straddle.
	cocoop.Linear1.Bias.Fill(1)
	maple, err := NewMaPLe(m, task.Vocab, classes, MaPLeConfig{M: 2, Std: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []Learner{coop, csc, cocoop, maple} {
		if err := tensor.GradCheck(loss(l), l.Parameters(), tensor.GradCheckOptions{Eps: 1e-2, Atol: 2e-3, Rtol: 3e-2}); err != nil {
			t.Errorf("%s: %v", l.Name(), err)
		}
	}
}

// Bad settings and inputs are errors naming the values, and leave the
// model as it was (not frozen, unchanged).
func TestBadInput(t *testing.T) {
	m, task := tiny(t)
	classes := task.BaseNames()
	trainable := len(nn.TrainableParameters(m))
	for _, c := range []struct {
		name string
		make func() error
		want []string
	}{
		{"context too long", func() error { _, err := NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 13}); return err }, []string{"13 context vectors", "17 positions", "at most 16"}},
		{"unknown position", func() error {
			_, err := NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 2, Position: "top"})
			return err
		}, []string{`"top"`, `"end"`}},
		{"M = 0", func() error { _, err := NewCoOp(m, task.Vocab, classes, CoOpConfig{}); return err }, []string{"0 context vectors"}},
		{"M < 0", func() error { _, err := NewCoCoOp(m, task.Vocab, classes, CoCoOpConfig{M: -1}); return err }, []string{"-1 context vectors"}},
		{"no classes", func() error { _, err := NewMaPLe(m, task.Vocab, nil, MaPLeConfig{M: 2}); return err }, []string{"empty class list"}},
		{"unknown word", func() error { _, err := NewCoOp(m, task.Vocab, []string{"red sofa"}, CoOpConfig{M: 2}); return err }, []string{`"sofa"`}},
		{"phrase length", func() error {
			_, err := NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 3, InitPhrase: "a photo of a"})
			return err
		}, []string{"4 tokens for 3 context vectors"}},
		{"depth", func() error { _, err := NewMaPLe(m, task.Vocab, classes, MaPLeConfig{M: 2, Depth: 3}); return err }, []string{"depth 3", "1 … 2"}},
		{"no model", func() error { _, err := (&ZeroShot{}).Logits(tensor.Zeros(1, 3, 16, 16), classes); return err }, []string{"without a model"}},
		{"empty classes, zero-shot", func() error { _, err := (&ZeroShot{Model: m, Tokenizer: task.Vocab}).TextFeatures(nil); return err }, []string{"empty class list"}},
		{"wrong images", func() error {
			_, err := (&ZeroShot{Model: m, Tokenizer: task.Vocab}).Logits(tensor.Zeros(2, 1, 16, 16), classes)
			return err
		}, []string{"(2,1,16,16)", "(N, 3, 16, 16)"}},
	} {
		err := c.make()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
	if got := len(nn.TrainableParameters(m)); got != trainable {
		t.Fatalf("failed constructors froze the model: %d trainable tensors, was %d", got, trainable)
	}
	coop, err := NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 2, ClassSpecific: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := coop.Logits(tensor.Zeros(1, 3, 16, 16), task.NewNames()); err == nil || !strings.Contains(err.Error(), "class-specific") {
		t.Errorf("class-specific context on other classes: %v", err)
	}
	before := slices.Clone(coop.Context.Data())
	images := tensor.Zeros(2, 3, 16, 16)
	for _, c := range []struct {
		images *tensor.Tensor
		labels []int
	}{{images, []int{0}}, {images, []int{0, 12}}, {tensor.Zeros(2, 3, 8, 8), []int{0, 1}}} {
		if _, err := Fit(coop, c.images, c.labels, classes, FitOptions{Steps: 1}); err == nil {
			t.Errorf("Fit on images %v, labels %v: no error", c.images.Shape(), c.labels)
		}
		if _, err := Evaluate(coop, c.images, c.labels, classes); err == nil {
			t.Errorf("Evaluate on images %v, labels %v: no error", c.images.Shape(), c.labels)
		}
	}
	if !slices.Equal(before, coop.Context.Data()) {
		t.Error("a failed Fit changed the context")
	}
}

func TestHelpers(t *testing.T) {
	if h := HarmonicMean(0.8, 0.6); math.Abs(h-0.96/1.4) > 1e-12 {
		t.Errorf("HarmonicMean(0.8, 0.6) = %v, want 0.685714…", h)
	}
	if HarmonicMean(0, 0) != 0 {
		t.Error("HarmonicMean(0, 0) is not 0")
	}
	// Logits [[2 0] [0 2]]: every row and column has cross-entropy
	// log(1 + e^-2) = 0.126928.
	if got := ContrastiveLoss(tensor.New([]float32{2, 0, 0, 2}, 2, 2)).Item(); math.Abs(float64(got)-math.Log1p(math.Exp(-2))) > 1e-6 {
		t.Errorf("ContrastiveLoss = %v, want 0.126928", got)
	}
	task := shapes.NewTask()
	ds, err := task.Images("pool", task.Base[:3], 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, err := FewShot(ds, 2, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := FewShot(ds, 2, 9)
	if !slices.Equal(a.Labels, []int{0, 0, 1, 1, 2, 2}) || !slices.Equal(a.X.Data(), b.X.Data()) {
		t.Errorf("FewShot labels %v (or not reproducible)", a.Labels)
	}
	if _, err := FewShot(ds, 6, 9); err == nil || !strings.Contains(err.Error(), "5 examples, fewer than 6 shots") {
		t.Errorf("too many shots: %v", err)
	}
	r := &Report{Results: []Result{{Method: "zero-shot", Base: 0.7, New: 0.6, H: HarmonicMean(0.7, 0.6)}, {Method: "CoOp", Base: 0.9, New: 0.5, H: HarmonicMean(0.9, 0.5)}}}
	if s := r.String(); !strings.Contains(s, "zero-shot  base  70.0  new  60.0  H  64.6") || !strings.Contains(s, "CoOp       base  90.0  new  50.0  H  64.3") {
		t.Errorf("report:\n%s", s)
	}
	if fig, err := r.Chart(); err != nil || fig == nil {
		t.Errorf("chart: %v", err)
	}
	if r.Table().Len() != 2 {
		t.Error("table rows")
	}
}
