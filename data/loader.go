package data

import (
	"fmt"

	"github.com/graftml/graft/nn/train"
	"github.com/graftml/graft/tensor"
)

// LoaderOptions are the settings of a Loader.
type LoaderOptions struct {
	// BatchSize is the number of examples per batch (0: train.DefaultBatchSize).
	BatchSize int
	// Shuffle visits the examples in a new random order each epoch; without
	// it they come in dataset order.
	Shuffle bool
	// DropLast leaves out the last batch of an epoch when it is smaller
	// than BatchSize.
	DropLast bool
	// Seed seeds the loader's random stream: the same seed gives the same
	// batches, epoch after epoch.
	Seed uint64
	// Balanced samples classes equally often: each example of an epoch is
	// drawn with replacement by picking a class uniformly among the classes
	// present, then an example of it uniformly. An epoch still has Len()
	// examples of the dataset. It needs labels; Shuffle is implied.
	Balanced bool
}

// Loader hands out the batches of a dataset epoch by epoch:
//
//	for b, ok := l.Next(); ok; b, ok = l.Next() { … }
//	l.Reset() // the next epoch, in a new order
type Loader struct {
	ds      train.Dataset
	opt     LoaderOptions
	rng     *tensor.RNG
	byClass [][]int // example indices by class, for Balanced
	order   []int   // the examples of this epoch, in order
	pos     int     // index into order of the next batch's first example
	epoch   int
}

// NewLoader returns a loader over ds positioned at the start of epoch 1.
// It is an error if the batch size is negative, if an epoch would have no
// batch (an empty dataset, or fewer examples than BatchSize with DropLast),
// or if Balanced is asked of a dataset without labels.
func NewLoader(ds train.Dataset, opt LoaderOptions) (*Loader, error) {
	if ds == nil {
		return nil, fmt.Errorf("data: loader: the dataset is nil")
	}
	if opt.BatchSize < 0 {
		return nil, fmt.Errorf("data: loader: BatchSize is %d, want a positive size (or 0 for %d)", opt.BatchSize, train.DefaultBatchSize)
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = train.DefaultBatchSize
	}
	l := &Loader{ds: ds, opt: opt, rng: tensor.NewRNG(opt.Seed)}
	if l.Len() == 0 {
		return nil, fmt.Errorf("data: loader over %s: %d examples give no batch of %d (DropLast %v)", datasetName(ds), ds.Len(), opt.BatchSize, opt.DropLast)
	}
	if opt.Balanced {
		labels, err := labelsOf(ds)
		if err != nil {
			return nil, err
		}
		for i, y := range labels {
			if y < 0 {
				return nil, fmt.Errorf("data: loader over %s: label %d of example %d is negative", datasetName(ds), y, i)
			}
			for len(l.byClass) <= y {
				l.byClass = append(l.byClass, nil)
			}
			l.byClass[y] = append(l.byClass[y], i)
		}
		present := l.byClass[:0]
		for _, idx := range l.byClass {
			if len(idx) > 0 {
				present = append(present, idx)
			}
		}
		l.byClass = present
	}
	l.epoch = 1
	l.order = l.newOrder()
	return l, nil
}

// datasetName names a dataset in messages.
func datasetName(ds train.Dataset) string {
	if d, ok := ds.(*Dataset); ok && d != nil {
		return fmt.Sprintf("%q", d.Name)
	}
	return fmt.Sprintf("a %T", ds)
}

// labelsOf returns the class labels of every example of ds: a *Dataset's
// own, otherwise those its batches carry (fetched in chunks).
func labelsOf(ds train.Dataset) ([]int, error) {
	if d, ok := ds.(*Dataset); ok {
		if d.Labels == nil {
			return nil, fmt.Errorf("data: loader over %q: Balanced needs labels and the dataset has none", d.Name)
		}
		return d.Labels, nil
	}
	n := ds.Len()
	labels := make([]int, 0, n)
	const chunk = 1024
	for lo := 0; lo < n; lo += chunk {
		idx := make([]int, min(chunk, n-lo))
		for i := range idx {
			idx[i] = lo + i
		}
		b := ds.Batch(idx)
		if len(b.Labels) != len(idx) {
			return nil, fmt.Errorf("data: loader over %s: Balanced needs labels and its batches carry %d labels for %d examples", datasetName(ds), len(b.Labels), len(idx))
		}
		labels = append(labels, b.Labels...)
	}
	return labels, nil
}

// newOrder draws the order of the examples of one epoch.
func (l *Loader) newOrder() []int {
	n := l.ds.Len()
	switch {
	case l.opt.Balanced:
		order := make([]int, n)
		for i := range order {
			idx := l.byClass[l.rng.IntN(len(l.byClass))]
			order[i] = idx[l.rng.IntN(len(idx))]
		}
		return order
	case l.opt.Shuffle:
		return l.rng.Perm(n)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	return order
}

// Len returns the number of batches in an epoch.
func (l *Loader) Len() int {
	n, bs := l.ds.Len(), l.opt.BatchSize
	if l.opt.DropLast {
		return n / bs
	}
	return (n + bs - 1) / bs
}

// Epoch returns the number of the current epoch, counting from 1.
func (l *Loader) Epoch() int { return l.epoch }

// BatchSize returns the number of examples of a full batch.
func (l *Loader) BatchSize() int { return l.opt.BatchSize }

// Next returns the next batch of the epoch and true, or an empty batch and
// false when the epoch is over (until Reset).
func (l *Loader) Next() (train.Batch, bool) {
	bs := l.opt.BatchSize
	rest := len(l.order) - l.pos
	if rest <= 0 || (l.opt.DropLast && rest < bs) {
		return train.Batch{}, false
	}
	idx := append([]int(nil), l.order[l.pos:l.pos+min(bs, rest)]...)
	l.pos += len(idx)
	return l.ds.Batch(idx), true
}

// Reset starts the next epoch: the examples are visited again, in a new
// order when shuffling or balancing (drawn from the loader's seeded
// stream, so the sequence of epochs is the same for the same seed).
func (l *Loader) Reset() {
	l.epoch++
	l.pos = 0
	l.order = l.newOrder()
}

// PairLoader yields one batch of a source domain and one of a target
// domain per step, for domain adaptation loops. It never runs out: each
// side starts its next epoch (a new order) as soon as it has gone through
// its dataset, so the smaller domain cycles while the larger one is
// visited once per epoch.
type PairLoader struct {
	source, target *Loader
	step           int
}

// NewPairLoader returns a loader over source and target with the same
// batch size, shuffling and drop-last settings. Balanced applies to the
// source only: a target domain's labels are not used (in unsupervised
// adaptation there are none). The target's order is drawn from a seed
// derived from opt.Seed. Errors are NewLoader's, naming the side.
func NewPairLoader(source, target train.Dataset, opt LoaderOptions) (*PairLoader, error) {
	src, err := NewLoader(source, opt)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	topt := opt
	topt.Balanced = false
	topt.Seed = subSeed(opt.Seed, 1)
	tgt, err := NewLoader(target, topt)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	return &PairLoader{source: src, target: tgt}, nil
}

// Next returns the next source batch and the next target batch.
func (p *PairLoader) Next() (src, tgt train.Batch) {
	p.step++
	return cycle(p.source), cycle(p.target)
}

// cycle returns l's next batch, starting a new epoch when one is over.
func cycle(l *Loader) train.Batch {
	b, ok := l.Next()
	if !ok {
		l.Reset()
		b, _ = l.Next()
	}
	return b
}

// Len returns the number of steps in an epoch: the batches of the domain
// that has more of them.
func (p *PairLoader) Len() int { return max(p.source.Len(), p.target.Len()) }

// Step returns the number of steps taken (calls of Next).
func (p *PairLoader) Step() int { return p.step }

// Epoch returns the number of the current epoch, counting from 1: the
// epoch the next step belongs to, in units of Len steps.
func (p *PairLoader) Epoch() int { return p.step/p.Len() + 1 }

// Source returns the loader of the source side, to read its own epoch.
func (p *PairLoader) Source() *Loader { return p.source }

// Target returns the loader of the target side, to read its own epoch.
func (p *PairLoader) Target() *Loader { return p.target }
