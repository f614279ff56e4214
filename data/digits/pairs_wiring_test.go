package digits

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/data/dataio"
	"github.com/graftml/graft/tensor"
)

// fakeMNIST writes a small MNIST-format folder: 30 training and 20 test
// images of 28×28, each an ink rectangle whose place and size depend on the
// index, labels cycling through 0..9 (test labels shifted by 3).
func fakeMNIST(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, train := range []bool{true, false} {
		n, shift := 20, 3
		if train {
			n, shift = 30, 0
		}
		pix := make([]float32, n*784)
		labels := make([]int, n)
		for i := range n {
			labels[i] = (i + shift) % 10
			r0, c0 := 3+i%7, 5+i%5
			for y := r0; y < r0+8+i%9; y++ {
				for x := c0; x < c0+4+i%6; x++ {
					pix[i*784+y*28+x] = float32(128 + 4*i)
				}
			}
		}
		img, lbl := splitFiles(train)
		if err := dataio.WriteIDX(filepath.Join(dir, img+".gz"), tensor.New(pix, n, 28, 28), dataio.IDXUint8); err != nil {
			t.Fatal(err)
		}
		if err := dataio.WriteIDXLabels(filepath.Join(dir, lbl+".gz"), labels); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sameValues(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	gs, ws := got.Shape(), want.Shape()
	if tensor.FormatShape(gs) != tensor.FormatShape(ws) {
		t.Fatalf("%s: shape %v, want %v", what, gs, ws)
	}
	for i, v := range got.Data() {
		if w := want.Data()[i]; v != w {
			t.Fatalf("%s: value %d is %v, want %v", what, i, v, w)
		}
	}
}

// TestPairWiring checks what each pair is made of — which split, how many
// images, which transform with which parameters — on a small fake MNIST.
func TestPairWiring(t *testing.T) {
	dir := fakeMNIST(t)
	opts := PairOptions{Dir: dir, SourceLimit: 12, TargetLimit: 7, Seed: 5}
	train := loadOrFatal(t, MNIST, MNISTOptions{Dir: dir, Train: true, Limit: 12})
	test := loadOrFatal(t, MNIST, MNISTOptions{Dir: dir, Limit: 7})
	uci, err := UCI()
	if err != nil {
		t.Fatal(err)
	}
	first := func(d *data.Dataset, n int) *data.Dataset {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return d.Subset(idx)
	}
	must := func(x *tensor.Tensor, err error) *tensor.Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	cases := []struct {
		pair     func() (data.DomainPair, error)
		name     string
		src, tgt *data.Dataset
		srcX     *tensor.Tensor
		tgtX     *tensor.Tensor
	}{
		{func() (data.DomainPair, error) { return MNISTToUCI(opts) }, "mnist→uci", train, first(uci, 7),
			must(UCIStyle(train.X, UCIStyleOptions{})), first(uci, 7).X},
		{func() (data.DomainPair, error) {
			o := opts
			o.UCIStyle = UCIStyleOptions{Threshold: 0.6, Stretch: true}
			return MNISTToUCI(o)
		}, "mnist→uci", train, first(uci, 7),
			must(UCIStyle(train.X, UCIStyleOptions{Threshold: 0.6, Stretch: true})), first(uci, 7).X},
		{func() (data.DomainPair, error) { return UCIToMNIST(opts) }, "uci→mnist", first(uci, 12), test,
			first(uci, 12).X, must(UCIStyle(test.X, UCIStyleOptions{}))},
		{func() (data.DomainPair, error) { return MNISTPlainPooledToUCI(opts) }, "mnist-pooled→uci", train, first(uci, 7),
			must(PoolTo8x8Plain(train.X)), first(uci, 7).X},
		{func() (data.DomainPair, error) { return MNISTToRotated(opts, 30) }, "mnist→rotated 30°", train, test,
			train.X, data.Rotate(test.X, 30)},
		{func() (data.DomainPair, error) { return MNISTToNoisy(opts, 0.3) }, "mnist→noisy σ=0.3", train, test,
			train.X, data.AddNoise(test.X, 0.3, 5).Clamp(0, 1)},
		{func() (data.DomainPair, error) { return MNISTToBlurred(opts, 1.2) }, "mnist→blurred σ=1.2", train, test,
			train.X, data.GaussianBlur(test.X, 1.2)},
		{func() (data.DomainPair, error) { return MNISTToLowRes(opts, 10) }, "mnist→10x10", train, test,
			train.X, data.Resize(data.ResizeArea(test.X, 10, 10), 28, 28)},
		{func() (data.DomainPair, error) { return MNISTToMNISTM(opts) }, "mnist→mnist-m", train, test,
			data.ToRGB(train.X), data.BlendBackground(test.X, 5)},
	}
	for _, c := range cases {
		p, err := c.pair()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p.Name != c.name || p.Shift == "" {
			t.Errorf("pair %q (shift %q), want %q", p.Name, p.Shift, c.name)
		}
		sameValues(t, p.Name+" source", p.Source.X, c.srcX)
		sameValues(t, p.Name+" target", p.Target.X, c.tgtX)
		if !slices.Equal(p.Source.Labels, c.src.Labels) || !slices.Equal(p.Target.Labels, c.tgt.Labels) {
			t.Errorf("%s: labels %v → %v, want %v → %v", p.Name, p.Source.Labels, p.Target.Labels, c.src.Labels, c.tgt.Labels)
		}
		if len(p.Source.Classes) != 10 || len(p.Target.Classes) != 10 {
			t.Errorf("%s: classes %v, %v", p.Name, p.Source.Classes, p.Target.Classes)
		}
	}

	// The seed drives the random shifts: same seed, same target; another, another.
	noisy := func(seed uint64) *tensor.Tensor {
		o := opts
		o.Seed = seed
		p, err := MNISTToNoisy(o, 0.3)
		if err != nil {
			t.Fatal(err)
		}
		return p.Target.X
	}
	sameValues(t, "noisy, same seed", noisy(9), noisy(9))
	a, b := noisy(9).Data(), noisy(10).Data()
	differ := 0
	for i := range a {
		if a[i] != b[i] {
			differ++
		}
	}
	if differ < len(a)/2 {
		t.Errorf("seeds 9 and 10 give %d of %d different noisy pixels", differ, len(a))
	}
	for _, v := range a {
		if v < 0 || v > 1 {
			t.Fatalf("noisy pixel %v outside [0, 1]", v)
		}
	}

	// Whole sets when no limits are given.
	p, err := MNISTToRotated(PairOptions{Dir: dir}, 10)
	if err != nil || p.Source.Len() != 30 || p.Target.Len() != 20 {
		t.Errorf("no limits: %v", err)
	}
	p, err = MNISTToUCI(PairOptions{Dir: dir})
	if err != nil || p.Target.Len() != UCISize {
		t.Errorf("no limits: UCI target of %d, %v", p.Target.Len(), err)
	}
}

func TestPairErrors(t *testing.T) {
	dir := fakeMNIST(t)
	ok := PairOptions{Dir: dir}
	cases := []struct {
		pair func() (data.DomainPair, error)
		want string
	}{
		{func() (data.DomainPair, error) { return MNISTToRotated(ok, math.NaN()) }, "degrees NaN is not finite"},
		{func() (data.DomainPair, error) { return MNISTToNoisy(ok, -0.1) }, "std -0.1 must be finite and non-negative"},
		{func() (data.DomainPair, error) { return MNISTToBlurred(ok, math.Inf(1)) }, "sigma +Inf"},
		{func() (data.DomainPair, error) { return MNISTToLowRes(ok, 0) }, "size 0 is outside [1, 28]"},
		{func() (data.DomainPair, error) { return MNISTToLowRes(ok, 29) }, "size 29"},
		{func() (data.DomainPair, error) { return MNISTToUCI(PairOptions{Dir: dir, SourceLimit: -1}) }, "SourceLimit -1"},
		{func() (data.DomainPair, error) { return UCIToMNIST(PairOptions{Dir: dir, TargetLimit: -2}) }, "TargetLimit -2"},
		{func() (data.DomainPair, error) {
			return MNISTToUCI(PairOptions{Dir: dir, UCIStyle: UCIStyleOptions{Threshold: 2}})
		}, "Threshold 2"},
		{func() (data.DomainPair, error) { return MNISTToMNISTM(PairOptions{Dir: t.TempDir()}) }, "MNIST files not found"},
	}
	for _, c := range cases {
		if _, err := c.pair(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
