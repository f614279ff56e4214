package data

import (
	"fmt"
	"math"
	"strings"

	"github.com/graftml/graft/tensor"
)

// subSeed derives the seed of an independent random stream number stream
// from seed (a SplitMix64 step), so that one user seed can drive several
// generators — a source and a target domain — without them repeating each
// other.
func subSeed(seed, stream uint64) uint64 {
	z := seed + (stream+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// shuffled returns the dataset of the points xs (dim values each) and
// their labels, its rows in an order drawn from rng.
func shuffled(name string, xs []float64, dim int, labels []int, classes []string, rng *tensor.RNG) *Dataset {
	n := len(labels)
	perm := rng.Perm(n)
	x := make([]float32, len(xs))
	y := make([]int, n)
	for i, j := range perm {
		for c := range dim {
			x[i*dim+c] = float32(xs[j*dim+c])
		}
		y[i] = labels[j]
	}
	return &Dataset{Name: name, X: tensor.Wrap(x, n, dim), Labels: y, Classes: classes}
}

// moonsCentre is the centre of the two noiseless moons: the middle of
// their bounding box [−1, 2] × [−0.5, 1], which is also their mean.
var moonsCentre = [2]float64{0.5, 0.25}

// TwoMoons returns n points of the two inter-twinning half circles of
// scikit-learn's make_moons: n/2 (rounded down) of class 0 ("outer") on
// (cos t, sin t) and the rest of class 1 ("inner") on (1 − cos t,
// 0.5 − sin t), t evenly spaced over [0, π] on each, plus Gaussian noise of
// standard deviation noise on both coordinates, in a random order. seed
// draws the noise and the order.
func TwoMoons(n int, noise float64, seed uint64) (*Dataset, error) {
	if n < 2 {
		return nil, fmt.Errorf("data.TwoMoons: n is %d, want at least 2", n)
	}
	if noise < 0 || math.IsNaN(noise) {
		return nil, fmt.Errorf("data.TwoMoons: noise is %v, want a standard deviation ≥ 0", noise)
	}
	rng := tensor.NewRNG(seed)
	outer := n / 2
	xs := make([]float64, 0, 2*n)
	labels := make([]int, n)
	arc := func(m, i int) float64 {
		if m == 1 {
			return 0
		}
		return math.Pi * float64(i) / float64(m-1)
	}
	for i := range outer {
		t := arc(outer, i)
		xs = append(xs, math.Cos(t), math.Sin(t))
	}
	for i := range n - outer {
		t := arc(n-outer, i)
		xs = append(xs, 1-math.Cos(t), 0.5-math.Sin(t))
		labels[outer+i] = 1
	}
	for i := range xs {
		xs[i] += noise * rng.NormFloat64()
	}
	return shuffled("two moons", xs, 2, labels, []string{"outer", "inner"}, rng), nil
}

// RotatedMoons returns the two-moons pair of the DANN paper (Ganin et al.,
// 2016): a source and a target of n points each from the same generator
// (TwoMoons with the given noise, independent draws), the target rotated
// by angleDeg degrees counter-clockwise about the moons' centre (0.5, 0.25).
func RotatedMoons(n int, noise, angleDeg float64, seed uint64) (DomainPair, error) {
	src, err := TwoMoons(n, noise, subSeed(seed, 0))
	if err != nil {
		return DomainPair{}, fmt.Errorf("data.RotatedMoons: %w", err)
	}
	tgt, err := TwoMoons(n, noise, subSeed(seed, 1))
	if err != nil {
		return DomainPair{}, fmt.Errorf("data.RotatedMoons: %w", err)
	}
	rotatePoints(tgt.X, angleDeg, moonsCentre[0], moonsCentre[1])
	src.Name = "source: two moons"
	tgt.Name = fmt.Sprintf("target: two moons rotated %g°", angleDeg)
	return DomainPair{
		Name:   fmt.Sprintf("two moons, target rotated %g°", angleDeg),
		Source: src, Target: tgt,
		Shift: fmt.Sprintf("target rotated %g° counter-clockwise about the moons' centre (0.5, 0.25); same generator, new draws", angleDeg),
	}, nil
}

// rotatePoints rotates the (N, 2) points of x in place by deg degrees
// counter-clockwise about (cx, cy).
func rotatePoints(x *tensor.Tensor, deg, cx, cy float64) {
	rad := deg * math.Pi / 180
	cos, sin := math.Cos(rad), math.Sin(rad)
	d := x.Data()
	for i := 0; i+1 < len(d); i += 2 {
		u, v := float64(d[i])-cx, float64(d[i+1])-cy
		d[i], d[i+1] = float32(cx+cos*u-sin*v), float32(cy+sin*u+cos*v)
	}
}

// BlobOptions are the settings of Blobs and CovariateShiftBlobs.
type BlobOptions struct {
	// Classes is the number of classes (0: 3).
	Classes int
	// Dim is the input dimension, at least 2 (0: 2).
	Dim int
	// Radius places the class centres evenly on a circle of this radius in
	// the first two coordinates, 0 in the others (0: 3).
	Radius float64
	// Std is the standard deviation of each coordinate within a class
	// (0: 1).
	Std float64
	// Shift moves every mean of the target's input distribution by this
	// vector (Dim long; nil: Radius/2 along the first coordinate; a vector
	// of zeros: no move). CovariateShiftBlobs only.
	Shift []float64
	// Scale multiplies the target's standard deviation (0: 1.5; 1: no
	// change). CovariateShiftBlobs only.
	Scale float64
	// ComponentLabels labels every point of CovariateShiftBlobs by the
	// blob it was drawn from, in both domains, instead of by the shared
	// nearest-centre rule: the class-conditional distributions move with
	// the target, which is no longer covariate shift.
	ComponentLabels bool
	// Seed draws the points.
	Seed uint64
}

// withDefaults fills in BlobOptions' zero values and checks the rest.
func (o BlobOptions) withDefaults(fn string) (BlobOptions, error) {
	if o.Classes == 0 {
		o.Classes = 3
	}
	if o.Dim == 0 {
		o.Dim = 2
	}
	if o.Radius == 0 {
		o.Radius = 3
	}
	if o.Std == 0 {
		o.Std = 1
	}
	if o.Scale == 0 {
		o.Scale = 1.5
	}
	if o.Shift == nil {
		o.Shift = make([]float64, max(o.Dim, 2))
		o.Shift[0] = o.Radius / 2
	}
	switch {
	case o.Classes < 2:
		return o, fmt.Errorf("%s: Classes is %d, want at least 2", fn, o.Classes)
	case o.Dim < 2:
		return o, fmt.Errorf("%s: Dim is %d, want at least 2", fn, o.Dim)
	case o.Std < 0 || o.Scale < 0 || o.Radius < 0:
		return o, fmt.Errorf("%s: Std %v, Scale %v and Radius %v must not be negative", fn, o.Std, o.Scale, o.Radius)
	case len(o.Shift) != o.Dim:
		return o, fmt.Errorf("%s: Shift has %d values for Dim %d", fn, len(o.Shift), o.Dim)
	}
	return o, nil
}

// centres returns the class centres of o, Dim values each.
func (o BlobOptions) centres() [][]float64 {
	cs := make([][]float64, o.Classes)
	for k := range cs {
		a := 2 * math.Pi * float64(k) / float64(o.Classes)
		cs[k] = make([]float64, o.Dim)
		cs[k][0], cs[k][1] = o.Radius*math.Cos(a), o.Radius*math.Sin(a)
	}
	return cs
}

// drawBlobs draws n points, as equal a number from each blob as n allows
// (the first blobs get one more), from N(centre + shift, (std)² I). It
// returns the coordinates and each point's blob.
func drawBlobs(n int, centres [][]float64, shift []float64, std float64, rng *tensor.RNG) ([]float64, []int) {
	k, dim := len(centres), len(centres[0])
	xs := make([]float64, 0, n*dim)
	comp := make([]int, n)
	for i := range n {
		c := i % k
		comp[i] = c
		for j := range dim {
			xs = append(xs, centres[c][j]+shift[j]+std*rng.NormFloat64())
		}
	}
	return xs, comp
}

// nearest returns the index of the centre closest to each point.
func nearest(xs []float64, centres [][]float64) []int {
	dim := len(centres[0])
	out := make([]int, len(xs)/dim)
	for i := range out {
		best := math.Inf(1)
		for k, c := range centres {
			d := 0.0
			for j := range dim {
				e := xs[i*dim+j] - c[j]
				d += e * e
			}
			if d < best {
				best, out[i] = d, k
			}
		}
	}
	return out
}

// blobClasses names the classes of blobs.
func blobClasses(k int) []string {
	names := make([]string, k)
	for i := range names {
		names[i] = fmt.Sprintf("blob %d", i)
	}
	return names
}

// Blobs returns n points of Classes isotropic Gaussian blobs (scikit-learn's
// make_blobs with centres on a circle): class k is centred at
// Radius·(cos 2πk/K, sin 2πk/K, 0, …) with standard deviation Std on every
// coordinate, the classes as equal in size as n allows, in a random order.
// Shift, Scale and ComponentLabels are not used.
func Blobs(n int, opt BlobOptions) (*Dataset, error) {
	opt, err := opt.withDefaults("data.Blobs")
	if err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("data.Blobs: n is %d, want at least 1", n)
	}
	rng := tensor.NewRNG(opt.Seed)
	xs, comp := drawBlobs(n, opt.centres(), make([]float64, opt.Dim), opt.Std, rng)
	return shuffled("blobs", xs, opt.Dim, comp, blobClasses(opt.Classes), rng), nil
}

// CovariateShiftBlobs returns a pair of n points per domain whose input
// distribution moves while the labelling rule stays: the source draws from
// Blobs' mixture, the target from the same mixture with every mean moved by
// Shift and the standard deviation multiplied by Scale, and both label
// every point by the same rule — the class of the nearest source centre
// (the Bayes rule of the source mixture) — so p(y | x) is shared and only
// p(x) changes. Points a blob throws past a boundary take the
// neighbouring class, and the target's class proportions follow where its
// mass lands. ComponentLabels labels points by their blob instead (a
// class-conditional shift, named as such in Shift).
func CovariateShiftBlobs(n int, opt BlobOptions) (DomainPair, error) {
	opt, err := opt.withDefaults("data.CovariateShiftBlobs")
	if err != nil {
		return DomainPair{}, err
	}
	if n < 1 {
		return DomainPair{}, fmt.Errorf("data.CovariateShiftBlobs: n is %d, want at least 1", n)
	}
	centres := opt.centres()
	classes := blobClasses(opt.Classes)
	make1 := func(name string, shift []float64, std float64, stream uint64) *Dataset {
		rng := tensor.NewRNG(subSeed(opt.Seed, stream))
		xs, labels := drawBlobs(n, centres, shift, std, rng)
		if !opt.ComponentLabels {
			labels = nearest(xs, centres)
		}
		return shuffled(name, xs, opt.Dim, labels, classes, rng)
	}
	src := make1("source: blobs", make([]float64, opt.Dim), opt.Std, 0)
	tgt := make1("target: shifted blobs", opt.Shift, opt.Std*opt.Scale, 1)
	shift := fmt.Sprintf("covariate shift: target means moved by %s, std ×%g; both labelled by the nearest source centre",
		formatVector(opt.Shift), opt.Scale)
	name := "blobs with covariate shift"
	if opt.ComponentLabels {
		shift = fmt.Sprintf("class-conditional shift: target class means moved by %s, std ×%g; labels are the blobs",
			formatVector(opt.Shift), opt.Scale)
		name = "blobs with shifted classes"
	}
	return DomainPair{Name: name, Source: src, Target: tgt, Shift: shift}, nil
}

// formatVector writes v as "(1.5, 0)".
func formatVector(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.3g", x)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Spirals returns n points on classes interleaved spiral arms in the
// plane, as equal in number per arm as n allows (the first arms get one
// more), in a random order. Point i of the m on arm k has t = (i+0.5)/m,
// radius t and angle 2πk/classes + 2πt (one full turn from the centre
// outwards), plus Gaussian noise of standard deviation noise on both
// coordinates.
func Spirals(n, classes int, noise float64, seed uint64) (*Dataset, error) {
	if classes < 2 {
		return nil, fmt.Errorf("data.Spirals: classes is %d, want at least 2", classes)
	}
	if n < classes {
		return nil, fmt.Errorf("data.Spirals: n is %d, want at least one point per class (%d)", n, classes)
	}
	if noise < 0 || math.IsNaN(noise) {
		return nil, fmt.Errorf("data.Spirals: noise is %v, want a standard deviation ≥ 0", noise)
	}
	rng := tensor.NewRNG(seed)
	xs := make([]float64, 0, 2*n)
	labels := make([]int, 0, n)
	names := make([]string, classes)
	for k := range classes {
		names[k] = fmt.Sprintf("arm %d", k)
		m := n / classes
		if k < n%classes {
			m++
		}
		for i := range m {
			t := (float64(i) + 0.5) / float64(m)
			a := 2*math.Pi*float64(k)/float64(classes) + 2*math.Pi*t
			xs = append(xs, t*math.Cos(a)+noise*rng.NormFloat64(), t*math.Sin(a)+noise*rng.NormFloat64())
			labels = append(labels, k)
		}
	}
	return shuffled("spirals", xs, 2, labels, names, rng), nil
}

// LabelShift returns n examples of ds drawn without replacement so that
// the class proportions follow priors (one non-negative weight per class,
// normalised to sum to 1): class k gets priors[k]·n examples, rounded by
// largest remainders so the counts sum to n, drawn at random within the
// class (p(x | y) is unchanged), in a random order. It is an error if ds
// is unlabelled, priors has the wrong length or no positive weight, or a
// class has fewer examples than it needs.
func LabelShift(ds *Dataset, priors []float64, n int, seed uint64) (*Dataset, error) {
	if ds == nil || ds.Labels == nil {
		return nil, fmt.Errorf("data.LabelShift: the dataset has no labels")
	}
	k := ds.NumClasses()
	if len(priors) != k {
		return nil, fmt.Errorf("data.LabelShift: %d priors for the %d classes of %q", len(priors), k, ds.Name)
	}
	sum := 0.0
	for i, p := range priors {
		if p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("data.LabelShift: prior %d is %v, want a finite weight ≥ 0", i, p)
		}
		sum += p
	}
	if sum == 0 {
		return nil, fmt.Errorf("data.LabelShift: the priors %v are all 0", priors)
	}
	if n < 1 {
		return nil, fmt.Errorf("data.LabelShift: n is %d, want at least 1", n)
	}
	counts := apportion(n, priors)
	byClass := ds.indicesByClass()
	rng := tensor.NewRNG(seed)
	var idx []int
	for c, want := range counts {
		if want > len(byClass[c]) {
			return nil, fmt.Errorf("data.LabelShift: class %s needs %d examples (prior %.3g of %d) but %q has %d; lower n or use a larger dataset",
				ds.ClassName(c), want, priors[c]/sum, n, ds.Name, len(byClass[c]))
		}
		for _, j := range rng.Perm(len(byClass[c]))[:want] {
			idx = append(idx, byClass[c][j])
		}
	}
	rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	out := ds.Subset(idx)
	out.Name = ds.Name + " (label shift)"
	return out, nil
}

// LabelShiftPair returns a source and a target of n examples each drawn
// from disjoint halves of ds (a stratified split) with class priors source
// and target (nil: the proportions of ds): a label shift, p(y) changes and
// p(x | y) stays. Errors are LabelShift's and Split's.
func LabelShiftPair(ds *Dataset, source, target []float64, n int, seed uint64) (DomainPair, error) {
	if ds == nil || ds.Labels == nil {
		return DomainPair{}, fmt.Errorf("data.LabelShiftPair: the dataset has no labels")
	}
	a, b, err := ds.Split(0.5, subSeed(seed, 0))
	if err != nil {
		return DomainPair{}, fmt.Errorf("data.LabelShiftPair: %w", err)
	}
	own := make([]float64, ds.NumClasses())
	for c, m := range ds.ClassCounts() {
		own[c] = float64(m)
	}
	if source == nil {
		source = own
	}
	if target == nil {
		target = own
	}
	src, err := LabelShift(a, source, n, subSeed(seed, 1))
	if err != nil {
		return DomainPair{}, fmt.Errorf("data.LabelShiftPair: source: %w", err)
	}
	tgt, err := LabelShift(b, target, n, subSeed(seed, 2))
	if err != nil {
		return DomainPair{}, fmt.Errorf("data.LabelShiftPair: target: %w", err)
	}
	src.Name, tgt.Name = "source: "+ds.Name, "target: "+ds.Name
	return DomainPair{
		Name:   ds.Name + " with label shift",
		Source: src, Target: tgt,
		Shift: fmt.Sprintf("label shift: class priors p(y) %s → %s; p(x|y) unchanged", formatPriors(source), formatPriors(target)),
	}, nil
}

// formatPriors writes weights normalised to proportions, "[0.50 0.50]".
func formatPriors(p []float64) string {
	sum := 0.0
	for _, v := range p {
		sum += v
	}
	parts := make([]string, len(p))
	for i, v := range p {
		parts[i] = fmt.Sprintf("%.2f", v/sum)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
