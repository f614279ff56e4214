// Package data provides graft's datasets: in-memory labelled datasets that
// the training loop consumes, loaders (seeded shuffling, batching, drop-last,
// class-balanced sampling), held-out splits, transforms, and synthetic pairs
// of domains — a source and a target that differ in a known way — for domain
// adaptation experiments.
//
// Images are (N, C, H, W) tensors. The image transforms (Rotate, AddNoise,
// GaussianBlur, Resize, ResizeArea, ToRGB, BlendBackground, Normalize, …)
// take and return such tensors and, like tensor operations, panic on a shape
// they cannot handle; Dataset.Map applies one to a dataset and returns such a
// panic as an error. A *Dataset and a DomainPair show themselves in a
// notebook as a summary and a figure (Plot): sample images per class, or the
// points coloured by class, source and target side by side.
package data

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

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
	return (&train.TensorDataset{X: d.X, Labels: d.Labels}).Batch(indices)
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

// NumClasses returns the number of classes: len(Classes) when the classes
// are named, otherwise one more than the largest label; 0 for an
// unlabelled dataset.
func (d *Dataset) NumClasses() int {
	if d.Labels == nil {
		return len(d.Classes)
	}
	k := len(d.Classes)
	for _, l := range d.Labels {
		k = max(k, l+1)
	}
	return k
}

// ClassCounts returns the number of examples of each class, indexed by
// label (NumClasses long); nil for an unlabelled dataset.
func (d *Dataset) ClassCounts() []int {
	if d.Labels == nil {
		return nil
	}
	counts := make([]int, d.NumClasses())
	for _, l := range d.Labels {
		counts[l]++
	}
	return counts
}

// ClassName returns the name of class k: Classes[k] when named, otherwise
// the label as a number.
func (d *Dataset) ClassName(k int) string {
	if k >= 0 && k < len(d.Classes) {
		return d.Classes[k]
	}
	return strconv.Itoa(k)
}

// Shuffle returns the dataset with its examples in a random order drawn
// from seed.
func (d *Dataset) Shuffle(seed uint64) *Dataset {
	return d.Subset(tensor.NewRNG(seed).Perm(d.Len()))
}

// Split divides the dataset into a training part and a held-out part of
// the fraction heldOut (in (0, 1)) of the examples, drawn at random from
// seed. A labelled dataset is split within each class (stratified), so
// both parts keep its class proportions: round(heldOut·N) examples are
// held out in all, shared among the classes in proportion to their sizes
// (largest remainders). Both parts keep the original order of their
// examples. It is an error if either part would be empty.
func (d *Dataset) Split(heldOut float64, seed uint64) (train, held *Dataset, err error) {
	n := d.Len()
	if !(heldOut > 0 && heldOut < 1) {
		return nil, nil, fmt.Errorf("data: splitting %q: heldOut is %v, want a fraction in (0, 1)", d.Name, heldOut)
	}
	total := int(math.Round(heldOut * float64(n)))
	if total == 0 || total == n {
		return nil, nil, fmt.Errorf("data: splitting %q: holding out %v of %d examples leaves %d to train on and %d held out; both must be at least 1",
			d.Name, heldOut, n, n-total, total)
	}
	rng := tensor.NewRNG(seed)
	isHeld := make([]bool, n)
	if d.Labels == nil {
		for _, i := range rng.Perm(n)[:total] {
			isHeld[i] = true
		}
	} else {
		byClass := d.indicesByClass()
		sizes := make([]int, len(byClass))
		for k, idx := range byClass {
			sizes[k] = len(idx)
		}
		take := apportion(total, sizes)
		for k, idx := range byClass {
			for _, j := range rng.Perm(len(idx))[:take[k]] {
				isHeld[idx[j]] = true
			}
		}
	}
	var a, b []int
	for i, h := range isHeld {
		if h {
			b = append(b, i)
		} else {
			a = append(a, i)
		}
	}
	train, held = d.Subset(a), d.Subset(b)
	train.Name, held.Name = d.Name+" (train)", d.Name+" (held out)"
	return train, held, nil
}

// indicesByClass returns the indices of the examples of each class, in
// order, indexed by label.
func (d *Dataset) indicesByClass() [][]int {
	byClass := make([][]int, d.NumClasses())
	for i, l := range d.Labels {
		byClass[l] = append(byClass[l], i)
	}
	return byClass
}

// apportion shares total among groups in proportion to weights (non-
// negative, not all 0) by largest remainders, ties going to the earlier
// group, so the shares sum to total.
func apportion[W int | float64](total int, weights []W) []int {
	sum := 0.0
	for _, w := range weights {
		sum += float64(w)
	}
	shares := make([]int, len(weights))
	if sum == 0 {
		return shares
	}
	type rem struct {
		k int
		r float64
	}
	rems := make([]rem, len(weights))
	given := 0
	for k, w := range weights {
		exact := float64(total) * float64(w) / sum
		shares[k] = int(math.Floor(exact))
		given += shares[k]
		rems[k] = rem{k, exact - float64(shares[k])}
	}
	sort.SliceStable(rems, func(i, j int) bool { return rems[i].r > rems[j].r })
	for i := 0; given < total; i++ {
		shares[rems[i%len(rems)].k]++
		given++
	}
	return shares
}

// Map returns a dataset named name (the same name when empty) whose
// inputs are f applied to all of X at once — an image transform such as
// Rotate or BlendBackground, or any function of the whole batch — with
// the same labels and classes. It is an error if f returns nil, changes the
// number of examples, or panics (the panic's message is returned).
func (d *Dataset) Map(name string, f func(x *tensor.Tensor) *tensor.Tensor) (out *Dataset, err error) {
	if name == "" {
		name = d.Name
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("data: mapping %q to %q: %v", d.Name, name, r)
		}
	}()
	x := f(d.X.Detach())
	if x == nil || x.Dims() == 0 || x.Dim(0) != d.Len() {
		got := "nil"
		if x != nil {
			got = tensor.FormatShape(x.Shape())
		}
		return nil, fmt.Errorf("data: mapping %q to %q: the function turned inputs %s into %s; it must keep the %d rows",
			d.Name, name, tensor.FormatShape(d.X.Shape()), got, d.Len())
	}
	return &Dataset{Name: name, X: x, Labels: slices.Clone(d.Labels), Classes: d.Classes}, nil
}

// Standardize returns the pair with both domains' inputs standardised
// feature by feature with the source's means and standard deviations (the
// target's statistics are not used, as an adaptation method may not see
// them). It is an error if the domains' examples differ in size.
func (p DomainPair) Standardize() (DomainPair, error) {
	if p.Source == nil || p.Target == nil {
		return p, fmt.Errorf("data: standardising %q: the pair lacks a source or a target", p.Name)
	}
	if p.Source.Len() == 0 {
		return p, fmt.Errorf("data: standardising %q: the source %q is empty", p.Name, p.Source.Name)
	}
	s := FitStandardizer(p.Source.X.Detach())
	src, err := p.Source.Map("", s.Apply)
	if err != nil {
		return p, err
	}
	tgt, err := p.Target.Map("", s.Apply)
	if err != nil {
		return p, err
	}
	p.Source, p.Target = src, tgt
	p.Shift = firstNonEmpty(p.Shift, "none stated") + "; standardised with the source's statistics"
	return p, nil
}
