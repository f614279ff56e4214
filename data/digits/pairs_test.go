package digits

import (
	"fmt"
	"strings"
	"testing"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// sourceOnly trains an MLP (one hidden layer of 64 ReLU units) on 80% of
// the pair's source and returns its accuracy on the other 20% (source) and
// on the whole target.
func sourceOnly(t *testing.T, p data.DomainPair, epochs int, seed uint64) (srcAcc, tgtAcc float64) {
	t.Helper()
	tr, held, err := p.Source.Split(0.2, seed)
	if err != nil {
		t.Fatal(err)
	}
	dim := tr.X.Len() / tr.Len()
	if tdim := p.Target.X.Len() / p.Target.Len(); tdim != dim {
		t.Fatalf("%s: source rows have %d values, target rows %d", p.Name, dim, tdim)
	}
	rng := tensor.NewRNG(seed)
	model := nn.NewMLP([]int{dim, 64, 10}, "relu", 0, rng)
	opt, err := optim.NewAdam(nn.TrainableParameters(model), optim.AdamConfig{LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	const batch = 64
	for range epochs {
		perm := tr.Shuffle(rng.Uint64())
		for lo := 0; lo+batch <= perm.Len(); lo += batch {
			idx := make([]int, batch)
			for i := range idx {
				idx[i] = lo + i
			}
			b := perm.Batch(idx)
			loss := nn.CrossEntropy(model.Forward(b.X.Reshape(batch, dim)), b.Labels)
			loss.Backward()
			opt.Step()
			opt.ZeroGrad()
		}
	}
	acc := func(d *data.Dataset) float64 {
		defer tensor.NoGrad()()
		return nn.Accuracy(model.Forward(d.X.Reshape(d.Len(), dim)), d.Labels)
	}
	return acc(held), acc(p.Target)
}

// TestSourceOnlyGap trains a source-only model on each digits pair and checks
// that the shift is real: high accuracy on held-out source data, clearly
// lower on the target.
func TestSourceOnlyGap(t *testing.T) {
	t.Parallel() // overlaps with the other slow tests (Python start-up, training)
	requireFiles(t, MNISTFiles)
	opts := PairOptions{SourceLimit: 5000, TargetLimit: 2000, Seed: 7}
	cases := []struct {
		make   func() (data.DomainPair, error)
		epochs int
		minSrc float64 // source accuracy at least
		minGap float64 // source − target accuracy at least (fraction)
		minTgt float64 // a sanity floor: the target is still digits
	}{
		{func() (data.DomainPair, error) { return MNISTToUCI(opts) }, 30, 0.9, 0.05, 0.5},
		{func() (data.DomainPair, error) { return MNISTPlainPooledToUCI(opts) }, 30, 0.85, 0.3, 0},
		{func() (data.DomainPair, error) { return UCIToMNIST(opts) }, 60, 0.93, 0.05, 0.4},
		{func() (data.DomainPair, error) { return MNISTToRotated(opts, 45) }, 5, 0.85, 0.05, 0.2},
		{func() (data.DomainPair, error) { return MNISTToNoisy(opts, 0.5) }, 5, 0.85, 0.05, 0.2},
		{func() (data.DomainPair, error) { return MNISTToBlurred(opts, 2.5) }, 5, 0.85, 0.05, 0.2},
		{func() (data.DomainPair, error) { return MNISTToLowRes(opts, 7) }, 5, 0.85, 0.05, 0.2},
		{func() (data.DomainPair, error) { return MNISTToMNISTM(opts) }, 3, 0.85, 0.05, 0},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "source-only MLP (hidden 64), source 80/20 split of %d, target %d (UCI: all 1,797)\n", opts.SourceLimit, opts.TargetLimit)
	fmt.Fprintf(&table, "%-22s %8s %8s %8s  %s\n", "pair", "source", "target", "gap", "shift")
	results := map[string][2]float64{}
	for _, c := range cases {
		p, err := c.make()
		if err != nil {
			t.Fatal(err)
		}
		src, tgt := sourceOnly(t, p, c.epochs, 1)
		results[p.Name] = [2]float64{src, tgt}
		fmt.Fprintf(&table, "%-22s %7.1f%% %7.1f%% %7.1f  %s\n", p.Name, 100*src, 100*tgt, 100*(src-tgt), p.Shift)
		if src < c.minSrc || src-tgt < c.minGap || tgt < c.minTgt {
			t.Errorf("%s: source %.3f, target %.3f; want source ≥ %.2f, gap ≥ %.2f, target ≥ %.2f", p.Name, src, tgt, c.minSrc, c.minGap, c.minTgt)
		}
	}
	t.Logf("\n%s", table.String())
	uciStyle, plain := results["mnist→uci"][1], results["mnist-pooled→uci"][1]
	t.Logf("MNIST→UCI target accuracy: UCI-style preprocessing %.1f%%, plain 28→8 pooling %.1f%%", 100*uciStyle, 100*plain)
	if uciStyle-plain < 0.2 {
		t.Errorf("UCI-style target accuracy %.3f is not clearly above plain pooling's %.3f", uciStyle, plain)
	}
}

// TestMNISTMSourceOnlyLeNet checks the calibration data.TextureBrightness
// documents: a LeNet-5 trained on MNIST alone (4,000 digits, 4 epochs of
// Adam) scores near the DANN paper's 52% source-only accuracy on the
// MNIST-M-like target, not near chance.
//
// It does not run in parallel: the parallel tests evaluate under
// tensor.NoGrad, which switches gradients off for the whole process.
func TestMNISTMSourceOnlyLeNet(t *testing.T) {
	requireFiles(t, MNISTFiles)
	p, err := MNISTToMNISTM(PairOptions{SourceLimit: 4000, TargetLimit: 1000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	model, err := models.NewLeNet(models.LeNetConfig{InChannels: 3, ImageSize: 28, Padding: 2}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.NewAdam(nn.Parameters(model), optim.AdamConfig{LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	loader, err := data.NewLoader(p.Source, data.LoaderOptions{BatchSize: 64, Shuffle: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		for b, ok := loader.Next(); ok; b, ok = loader.Next() {
			nn.CrossEntropy(model.Forward(b.X), b.Labels).Backward()
			opt.Step()
			opt.ZeroGrad()
		}
		loader.Reset()
	}
	acc := func(d *data.Dataset) float64 {
		defer tensor.NoGrad()()
		return nn.Accuracy(model.Forward(d.X), d.Labels)
	}
	src, tgt := acc(p.Source), acc(p.Target)
	t.Logf("LeNet-5 source-only on %s: source %.1f%%, target %.1f%% (DANN paper, real MNIST-M: 52.25%%)", p.Name, 100*src, 100*tgt)
	if src < 0.9 || tgt < 0.35 || tgt > 0.75 {
		t.Errorf("source %.3f, target %.3f: want source ≥ 0.9 and target in [0.35, 0.75]", src, tgt)
	}
}
