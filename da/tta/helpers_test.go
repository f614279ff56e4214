package tta_test

import (
	"testing"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/data/digits"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// digitsSplit returns the UCI digits split into a source training set and a
// held-out set the streams are made of.
func digitsSplit(t testing.TB, seed uint64) (train, held *data.Dataset) {
	t.Helper()
	ds, err := digits.UCI()
	if err != nil {
		t.Fatal(err)
	}
	train, held, err = ds.Split(0.4, seed)
	if err != nil {
		t.Fatal(err)
	}
	return train, held
}

// trainMLP trains an MLP with batch norm (64-32-32-10) on the source set
// with Adam, returning it in evaluation mode.
func trainMLP(t testing.TB, ds *data.Dataset, seed uint64, epochs int) *models.MLP {
	t.Helper()
	r := tensor.NewRNG(seed)
	m, err := models.NewMLP(models.MLPConfig{Inputs: 64, Hidden: []int{32, 32}, Classes: 10, BatchNorm: true}, r)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.NewAdam(nn.Parameters(m), optim.AdamConfig{LR: 3e-3})
	if err != nil {
		t.Fatal(err)
	}
	nn.Train(m)
	n := ds.Len()
	for e := 0; e < epochs; e++ {
		perm := r.Perm(n)
		for lo := 0; lo+32 <= n; lo += 32 {
			b := ds.Batch(perm[lo : lo+32])
			loss := nn.CrossEntropy(m.Forward(b.X), b.Labels)
			opt.ZeroGrad()
			loss.Backward()
			opt.Step()
		}
	}
	nn.Eval(m)
	return m
}
