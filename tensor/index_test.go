package tensor

import (
	"math"
	"testing"
)

// idxMat returns the constant (2,3) matrix [[1,2,3],[4,5,6]] (no gradient).
func idxMat() *Tensor { return New([]float32{1, 2, 3, 4, 5, 6}, 2, 3) }

func TestIndexOpsValues(t *testing.T) {
	a := idxMat()
	w := New([]float32{0, 1, 10, 11, 20, 21}, 3, 2) // embedding table, vocab 3, dim 2
	cases := []struct {
		name  string
		got   *Tensor
		want  []float32
		shape []int
	}{
		{"slice cols 1:3", a.Slice(1, 1, 3), []float32{2, 3, 5, 6}, []int{2, 2}},
		{"slice negative -2:-1", a.Slice(1, -2, -1), []float32{2, 5}, []int{2, 1}},
		{"slice rows -1:2", a.Slice(0, -1, 2), []float32{4, 5, 6}, []int{1, 3}},
		{"slice negative axis", a.Slice(-1, 0, 1), []float32{1, 4}, []int{2, 1}},
		{"slice empty", a.Slice(1, 2, 2), nil, []int{2, 0}},
		{"slice 3d middle", Arange(0, 24, 1).Reshape(2, 3, 4).Slice(1, 1, 2), []float32{4, 5, 6, 7, 16, 17, 18, 19}, []int{2, 1, 4}},
		{"index row", a.Index(0, 1), []float32{4, 5, 6}, []int{3}},
		{"index last col", a.Index(1, -1), []float32{3, 6}, []int{2}},
		{"index 1-d gives scalar", New([]float32{7, 8, 9}, 3).Index(0, 2), []float32{9}, nil},
		{"concat axis 0", Concat(0, a, New([]float32{7, 8, 9}, 1, 3)), []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, []int{3, 3}},
		{"concat axis 1", Concat(1, a, New([]float32{7, 8}, 2, 1)), []float32{1, 2, 3, 7, 4, 5, 6, 8}, []int{2, 4}},
		{"concat axis -1 three", Concat(-1, New([]float32{1}, 1), New([]float32{2, 3}, 2), New([]float32{4}, 1)), []float32{1, 2, 3, 4}, []int{4}},
		{"concat middle axis", Concat(1, Arange(0, 4, 1).Reshape(2, 1, 2), Arange(10, 14, 1).Reshape(2, 1, 2)), []float32{0, 1, 10, 11, 2, 3, 12, 13}, []int{2, 2, 2}},
		{"stack axis 0", Stack(0, New([]float32{1, 2}, 2), New([]float32{3, 4}, 2)), []float32{1, 2, 3, 4}, []int{2, 2}},
		{"stack axis 1", Stack(1, New([]float32{1, 2}, 2), New([]float32{3, 4}, 2)), []float32{1, 3, 2, 4}, []int{2, 2}},
		{"stack axis -1", Stack(-1, New([]float32{1, 2}, 2), New([]float32{3, 4}, 2), New([]float32{5, 6}, 2)), []float32{1, 3, 5, 2, 4, 6}, []int{2, 3}},
		{"stack middle of 2-d", Stack(1, a, a.Scale(10)), []float32{1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60}, []int{2, 2, 3}},
		{"stack scalars", Stack(0, Scalar(1), Scalar(2)), []float32{1, 2}, []int{2}},
		{"gather axis 1 (torch doc)", New([]float32{1, 2, 3, 4}, 2, 2).Gather(1, New([]float32{0, 0, 1, 0}, 2, 2)), []float32{1, 1, 4, 3}, []int{2, 2}},
		{"gather axis 0", a.Gather(0, New([]float32{1, 0, 1}, 1, 3)), []float32{4, 2, 6}, []int{1, 3}},
		{"gather smaller index", a.Gather(1, New([]float32{2, 2, 0, 1, 1, 1, 1, 1}, 2, 4)), []float32{3, 3, 1, 2, 5, 5, 5, 5}, []int{2, 4}},
		{"gather argmax", a.Gather(1, a.Argmax(1).Reshape(2, 1)), []float32{3, 6}, []int{2, 1}},
		{"index select repeats", a.IndexSelect(0, []int{1, 0, 1}), []float32{4, 5, 6, 1, 2, 3, 4, 5, 6}, []int{3, 3}},
		{"index select negative", a.IndexSelect(1, []int{2, -3}), []float32{3, 1, 6, 4}, []int{2, 2}},
		{"index select empty", a.IndexSelect(1, nil), nil, []int{2, 0}},
		{"one hot", OneHot([]int{2, 0, 1}, 3), []float32{0, 0, 1, 1, 0, 0, 0, 1, 0}, []int{3, 3}},
		{"one hot repeated", OneHot([]int{1, 1}, 2), []float32{0, 1, 0, 1}, []int{2, 2}},
		{"embedding 2-d ids", Embedding(w, New([]float32{2, 0, 1, 2}, 2, 2)), []float32{20, 21, 0, 1, 10, 11, 20, 21}, []int{2, 2, 2}},
		{"embedding scalar id", Embedding(w, Scalar(1)), []float32{10, 11}, []int{2}},
		{"embedding ints", EmbeddingInts(w, []int{1, 1, 0}), []float32{10, 11, 10, 11, 0, 1}, []int{3, 2}},
		{"pad axis 1", a.Pad(1, 1, 2, -1), []float32{-1, 1, 2, 3, -1, -1, -1, 4, 5, 6, -1, -1}, []int{2, 6}},
		{"pad axis 0 before", a.Pad(0, 1, 0, 0), []float32{0, 0, 0, 1, 2, 3, 4, 5, 6}, []int{3, 3}},
		{"pad nothing", a.Pad(-1, 0, 0, 9), []float32{1, 2, 3, 4, 5, 6}, []int{2, 3}},
		{"tile rows", a.Tile(2, 1), []float32{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, []int{4, 3}},
		{"tile cols", a.Tile(1, 2), []float32{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}, []int{2, 6}},
		{"tile both", New([]float32{1, 2}, 2, 1).Tile(2, 2), []float32{1, 1, 2, 2, 1, 1, 2, 2}, []int{4, 2}},
		{"tile zero", a.Tile(0, 1), nil, []int{0, 3}},
		{"tile scalar", Scalar(3).Tile(), []float32{3}, nil},
		{"flip axis 1", a.Flip(1), []float32{3, 2, 1, 6, 5, 4}, []int{2, 3}},
		{"flip axis 0", a.Flip(0), []float32{4, 5, 6, 1, 2, 3}, []int{2, 3}},
		{"flip middle", Arange(0, 8, 1).Reshape(2, 2, 2).Flip(1), []float32{2, 3, 0, 1, 6, 7, 4, 5}, []int{2, 2, 2}},
		{"tril 3x4", Tril(3, 4, 0), []float32{1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0}, []int{3, 4}},
		{"tril k=-1", Tril(3, 3, -1), []float32{0, 0, 0, 1, 0, 0, 1, 1, 0}, []int{3, 3}},
		{"tril k=1", Tril(2, 3, 1), []float32{1, 1, 0, 1, 1, 1}, []int{2, 3}},
		{"triu 3x4 k=1", Triu(3, 4, 1), []float32{0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1}, []int{3, 4}},
		{"triu 2x3", Triu(2, 3, 0), []float32{1, 1, 1, 0, 1, 1}, []int{2, 3}},
		{"triu k=-1", Triu(3, 2, -1), []float32{1, 1, 1, 1, 0, 1}, []int{3, 2}},
	}
	for _, c := range cases {
		if c.got.Len() != len(c.want) {
			t.Fatalf("%s: %d elements, want %d", c.name, c.got.Len(), len(c.want))
		}
		assertClose(t, c.name, c.got, c.want, c.shape, 0)
	}
}

func TestIndexOpsAreCopies(t *testing.T) {
	a := idxMat()
	s := a.Slice(1, 0, 2)
	s.Data()[0] = 100
	if a.At(0, 0) != 1 {
		t.Fatal("Slice shares storage with its input")
	}
	i := a.Index(0, 0)
	i.Data()[0] = 100
	if a.At(0, 0) != 1 {
		t.Fatal("Index shares storage with its input")
	}
}

func TestSplitAndChunk(t *testing.T) {
	a := idxMat()
	type piece struct {
		want  []float32
		shape []int
	}
	cases := []struct {
		name string
		got  []*Tensor
		want []piece
	}{
		{"split cols 1,2", a.Split(1, 1, 2), []piece{{[]float32{1, 4}, []int{2, 1}}, {[]float32{2, 3, 5, 6}, []int{2, 2}}}},
		{"split rows with empty", a.Split(0, 0, 2), []piece{{nil, []int{0, 3}}, {[]float32{1, 2, 3, 4, 5, 6}, []int{2, 3}}}},
		{"split negative axis", a.Split(-1, 2, 1), []piece{{[]float32{1, 2, 4, 5}, []int{2, 2}}, {[]float32{3, 6}, []int{2, 1}}}},
		{"chunk 5 into 3", Arange(0, 5, 1).Chunk(3, 0), []piece{{[]float32{0, 1}, []int{2}}, {[]float32{2, 3}, []int{2}}, {[]float32{4}, []int{1}}}},
		// torch.arange(6).chunk(4) gives three chunks of 2.
		{"chunk 6 into 4 gives 3", Arange(0, 6, 1).Chunk(4, 0), []piece{{[]float32{0, 1}, []int{2}}, {[]float32{2, 3}, []int{2}}, {[]float32{4, 5}, []int{2}}}},
		{"chunk more than length", Arange(0, 2, 1).Chunk(5, 0), []piece{{[]float32{0}, []int{1}}, {[]float32{1}, []int{1}}}},
		{"chunk cols", a.Chunk(2, 1), []piece{{[]float32{1, 2, 4, 5}, []int{2, 2}}, {[]float32{3, 6}, []int{2, 1}}}},
		{"chunk empty axis", Zeros(0, 2).Chunk(2, 0), []piece{{nil, []int{0, 2}}, {nil, []int{0, 2}}}},
	}
	for _, c := range cases {
		if len(c.got) != len(c.want) {
			t.Fatalf("%s: %d pieces, want %d", c.name, len(c.got), len(c.want))
		}
		for i, p := range c.want {
			assertClose(t, c.name, c.got[i], p.want, p.shape, 0)
		}
	}
}

// idxInts returns a constant tensor holding integral index values.
func idxInts(shape []int, vals ...float32) *Tensor { return New(vals, shape...) }

func TestGradientsIndexOps(t *testing.T) {
	runGradCases(t, []gradCase{
		{"slice negative", []*Tensor{seq(3, 5)}, func(in ...*Tensor) *Tensor { return in[0].Slice(1, -4, -1) }},
		{"slice middle axis", []*Tensor{seq(2, 4, 3)}, func(in ...*Tensor) *Tensor { return in[0].Slice(1, 1, 3).Square() }},
		{"slice used twice", []*Tensor{seq(4, 3)}, func(in ...*Tensor) *Tensor {
			return in[0].Slice(0, 0, 2).Mul(in[0].Slice(0, -2, 4))
		}},
		{"index", []*Tensor{seq(2, 3, 4)}, func(in ...*Tensor) *Tensor { return in[0].Index(1, -1).Exp() }},
		{"concat middle axis", []*Tensor{seq(2, 3, 4), seq(2, 1, 4), seq(2, 2, 4)}, func(in ...*Tensor) *Tensor {
			return Concat(1, in[0], in[1].Square(), in[2])
		}},
		{"concat same tensor twice", []*Tensor{seq(2, 3)}, func(in ...*Tensor) *Tensor { return Concat(0, in[0], in[0].Square()) }},
		{"concat last axis", []*Tensor{seq(3, 2), seq(3, 1)}, func(in ...*Tensor) *Tensor { return Concat(-1, in[0], in[1]) }},
		{"concat with constant", []*Tensor{seq(2, 2)}, func(in ...*Tensor) *Tensor { return Concat(0, Ones(1, 2), in[0]).Square() }},
		{"stack middle axis", []*Tensor{seq(2, 3), seq(2, 3)}, func(in ...*Tensor) *Tensor { return Stack(1, in[0], in[1].Exp()) }},
		{"stack last axis", []*Tensor{seq(4), seq(4)}, func(in ...*Tensor) *Tensor { return Stack(-1, in[0], in[1], in[0]) }},
		{"split", []*Tensor{seq(2, 4, 3)}, func(in ...*Tensor) *Tensor {
			p := in[0].Split(1, 1, 2, 1)
			return Concat(1, p[2], p[0].Scale(2), p[1].Square())
		}},
		{"chunk", []*Tensor{seq(5, 2)}, func(in ...*Tensor) *Tensor {
			p := in[0].Chunk(3, 0)
			return Concat(0, p[2].Exp(), p[1], p[0].Square())
		}},
		{"gather repeated indices", []*Tensor{seq(3, 4)}, func(in ...*Tensor) *Tensor {
			return in[0].Gather(1, idxInts([]int{3, 3}, 0, 0, 3, 1, 1, 1, 2, 0, 2))
		}},
		{"gather axis 0 3-d", []*Tensor{seq(3, 2, 2)}, func(in ...*Tensor) *Tensor {
			return in[0].Gather(0, idxInts([]int{2, 2, 2}, 2, 0, 1, 1, 0, 0, 2, 2)).Square()
		}},
		{"index select repeats", []*Tensor{seq(4, 3)}, func(in ...*Tensor) *Tensor { return in[0].IndexSelect(0, []int{1, 1, 3, 0, 1}) }},
		{"index select middle axis", []*Tensor{seq(2, 4, 3)}, func(in ...*Tensor) *Tensor {
			return in[0].IndexSelect(1, []int{3, -1, 0}).Square()
		}},
		{"embedding repeated ids", []*Tensor{seq(5, 3)}, func(in ...*Tensor) *Tensor {
			return Embedding(in[0], idxInts([]int{2, 3}, 4, 1, 4, 4, 0, 1))
		}},
		{"embedding ints", []*Tensor{seq(4, 2)}, func(in ...*Tensor) *Tensor { return EmbeddingInts(in[0], []int{3, 3, 0}).Square() }},
		{"pad", []*Tensor{seq(2, 3, 2)}, func(in ...*Tensor) *Tensor { return in[0].Pad(1, 2, 1, 0.5).Square() }},
		{"tile", []*Tensor{seq(2, 3)}, func(in ...*Tensor) *Tensor { return in[0].Tile(2, 3) }},
		{"tile 3-d", []*Tensor{seq(2, 1, 2)}, func(in ...*Tensor) *Tensor { return in[0].Tile(1, 3, 2).Square() }},
		{"flip", []*Tensor{seq(2, 3, 2)}, func(in ...*Tensor) *Tensor { return in[0].Flip(1).Mul(in[0]) }},
	})
}

func TestIndexGradAccumulatesRepeats(t *testing.T) {
	w := Zeros(3, 2).SetRequiresGrad(true)
	Embedding(w, New([]float32{2, 0, 2, 2}, 4)).Sum().Backward()
	assertClose(t, "embedding grad", w.Grad(), []float32{1, 1, 0, 0, 3, 3}, []int{3, 2}, 0)

	x := Zeros(2, 3).SetRequiresGrad(true)
	x.Gather(1, New([]float32{1, 1, 1, 0, 2, 0}, 2, 3)).Sum().Backward()
	assertClose(t, "gather grad", x.Grad(), []float32{0, 3, 0, 2, 0, 1}, []int{2, 3}, 0)

	y := Zeros(3).SetRequiresGrad(true)
	y.IndexSelect(0, []int{0, 0, -1, 0}).Sum().Backward()
	assertClose(t, "index select grad", y.Grad(), []float32{3, 0, 1}, []int{3}, 0)
}

func TestIndexOpsWithoutGrad(t *testing.T) {
	a := idxMat()
	for name, out := range map[string]*Tensor{
		"slice":  a.Slice(0, 0, 1),
		"concat": Concat(0, a, a),
		"gather": a.Gather(1, Zeros(2, 1)),
		"tile":   a.Tile(1, 1),
	} {
		if out.RequiresGrad() || !out.IsLeaf() {
			t.Fatalf("%s of a constant recorded a node", name)
		}
	}
	if OneHot([]int{0}, 2).RequiresGrad() || Tril(2, 2, 0).RequiresGrad() {
		t.Fatal("masks require grad")
	}
}

func TestIndexOpsPanics(t *testing.T) {
	a := idxMat()
	w := Zeros(3, 2)
	cases := []struct {
		want string
		f    func()
	}{
		{"slice: range 1:4 out of range for axis 1 of shape (2,3)", func() { a.Slice(1, 1, 4) }},
		{"slice: range -4:2 out of range for axis 1 of shape (2,3)", func() { a.Slice(1, -4, 2) }},
		{"slice: range 2:1 out of range for axis -1 of shape (2,3)", func() { a.Slice(-1, 2, 1) }},
		{"slice: axis 2 out of range for shape (2,3)", func() { a.Slice(2, 0, 1) }},
		{"index: index 2 out of range for axis 0 of shape (2,3)", func() { a.Index(0, 2) }},
		{"index: index -4 out of range for axis 1 of shape (2,3)", func() { a.Index(1, -4) }},
		{"concat: (2,3) and (2,4) differ in axis 1", func() { Concat(0, Zeros(2, 3), Zeros(2, 4)) }},
		{"concat: (2,3) and (3,3) differ in axis 0", func() { Concat(1, Zeros(2, 3), Zeros(3, 3)) }},
		{"concat: (2,3) and (6) differ in number of dimensions", func() { Concat(0, Zeros(2, 3), Zeros(6)) }},
		{"concat: no tensors given", func() { Concat(0) }},
		{"concat: tensor 1 is nil", func() { Concat(0, a, nil) }},
		{"stack: tensor 1 has shape (3,2), tensor 0 has (2,3)", func() { Stack(0, a, Zeros(3, 2)) }},
		{"stack: axis 3 out of range for stacking tensors of shape (2,3)", func() { Stack(3, a, a) }},
		{"split: sizes [1 1] sum to 2, not the length 3 of axis 1 of shape (2,3)", func() { a.Split(1, 1, 1) }},
		{"split: negative size -1", func() { a.Split(1, 4, -1) }},
		{"chunk: number of chunks 0 must be positive (shape (2,3))", func() { a.Chunk(0, 1) }},
		{"gather: index 3 at position (1,0) is outside [0,3) for axis 1 of input (2,3)", func() { a.Gather(1, New([]float32{0, 3}, 2, 1)) }},
		{"gather: index -1 at position (0,0) is outside [0,3)", func() { a.Gather(1, New([]float32{-1}, 1, 1)) }},
		{"gather: index 0.5 at position (0,1) is not an integer", func() { a.Gather(1, New([]float32{0, 0.5}, 1, 2)) }},
		{"gather: index NaN at position (0,0) is not an integer", func() { a.Gather(1, New([]float32{float32(math.NaN())}, 1, 1)) }},
		{"gather: index (6) and input (2,3) differ in number of dimensions", func() { a.Gather(1, Zeros(6)) }},
		{"gather: index (3,1) is larger than input (2,3) in axis 0", func() { a.Gather(1, Zeros(3, 1)) }},
		{"index_select: index 3 at position 1 out of range for axis 1 of shape (2,3)", func() { a.IndexSelect(1, []int{0, 3}) }},
		{"one_hot: label 3 at position 1 is outside [0,3)", func() { OneHot([]int{0, 3}, 3) }},
		{"one_hot: label -1 at position 0 is outside [0,2)", func() { OneHot([]int{-1}, 2) }},
		{"one_hot: negative number of classes -2", func() { OneHot(nil, -2) }},
		{"embedding: id 5 at position (0,1) is outside [0,3) (weight (3,2))", func() { Embedding(w, New([]float32{0, 5}, 1, 2)) }},
		{"embedding: id 1.5 at position 0 is not an integer", func() { Embedding(w, New([]float32{1.5}, 1)) }},
		{"embedding: id -2 at position 2 is outside [0,3) (weight (3,2))", func() { EmbeddingInts(w, []int{0, 1, -2}) }},
		{"embedding: weight (6) must be 2-D (vocab, dim)", func() { EmbeddingInts(Zeros(6), []int{0}) }},
		{"pad: negative padding (-1 before, 0 after) for axis 0 of shape (2,3)", func() { a.Pad(0, -1, 0, 0) }},
		{"tile: 1 repetitions [2] for shape (2,3); give one per axis", func() { a.Tile(2) }},
		{"tile: negative repetition -1 for axis 1", func() { a.Tile(1, -1) }},
		{"flip: axis 2 out of range for shape (2,3)", func() { a.Flip(2) }},
		{"tensor.Zeros: negative dimension in shape (-1,2)", func() { Tril(-1, 2, 0) }},
	}
	for _, c := range cases {
		expectPanic(t, c.want, c.f)
	}
}
