// Package data provides graft's datasets: in-memory labelled datasets that
// the training loop consumes, loaders (seeded shuffling, batching, drop-last,
// class-balanced sampling), held-out splits, transforms, and synthetic pairs
// of domains — a source and a target that differ in a known way — for domain
// adaptation experiments.
package data

import (
	"fmt"

	"github.com/graftml/graft/nn/train"
	"github.com/graftml/graft/tensor"
)

// Dataset is a dataset held in memory: inputs X whose rows (axis 0) are the
// examples, optional class Labels (one per row), the names of the classes,
// and a Name used in displays and error messages. Images are stored as
// (N, C, H, W). A *Dataset is a train.Dataset.
type Dataset struct {
	Name    string
	X       *tensor.Tensor
	Labels  []int    // nil when unlabelled
	Classes []string // Classes[label] names a class; may be nil
}

// New returns the dataset of the rows of x with one label per row (labels may
// be nil for an unlabelled set). It is an error if the counts differ or a
// label is negative or not below len(classes) when classes are given.
func New(name string, x *tensor.Tensor, labels []int, classes []string) (*Dataset, error) {
	if x == nil || x.Dims() == 0 {
		return nil, fmt.Errorf("data: dataset %q: inputs must be a tensor whose rows (axis 0) are the examples", name)
	}
	if labels != nil && len(labels) != x.Dim(0) {
		return nil, fmt.Errorf("data: dataset %q: %d rows %s but %d labels", name, x.Dim(0), tensor.FormatShape(x.Shape()), len(labels))
	}
	for i, l := range labels {
		if l < 0 || (classes != nil && l >= len(classes)) {
			return nil, fmt.Errorf("data: dataset %q: label %d of row %d is outside [0, %d)", name, l, i, max(len(classes), 1))
		}
	}
	return &Dataset{Name: name, X: x, Labels: labels, Classes: classes}, nil
}

// Len returns the number of examples.
func (d *Dataset) Len() int { return d.X.Dim(0) }

// Batch returns the examples at indices as copies detached from any graph,
// with their labels; it makes *Dataset a train.Dataset.
func (d *Dataset) Batch(indices []int) train.Batch {
	b := train.Batch{Indices: append([]int(nil), indices...)}
	b.X = d.X.Detach().IndexSelect(0, indices)
	if d.Labels != nil {
		b.Labels = make([]int, len(indices))
		for i, j := range indices {
			b.Labels[i] = d.Labels[j]
		}
	}
	return b
}

// Subset returns the dataset of the examples at indices, in that order.
func (d *Dataset) Subset(indices []int) *Dataset {
	b := d.Batch(indices)
	return &Dataset{Name: d.Name, X: b.X, Labels: b.Labels, Classes: d.Classes}
}

// DomainPair is a source and a target domain for adaptation: the same task
// (same classes) on data that differs in the way Shift describes.
type DomainPair struct {
	Name           string
	Source, Target *Dataset
	Shift          string // what differs, e.g. "target rotated by 30°"
}
