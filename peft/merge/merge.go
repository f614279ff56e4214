package merge

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz"
	"github.com/graftml/graft/viz/table"
)

// TaskVector is what fine-tuning changed in a model: for every parameter,
// in the base model's parameter order, the difference θ_ft − θ_base. It
// records a fingerprint of the base it was taken from, so that task vectors
// of different bases are not combined by mistake.
type TaskVector struct {
	// Deltas holds one task vector per parameter, named as the model names
	// the parameter.
	Deltas []nn.NamedTensor
	// Base is a fingerprint (a hash of the names, shapes and values) of the
	// base model's parameters.
	Base string
}

// NewTaskVector returns the task vector finetuned − base over every
// parameter of the two models (frozen ones included; buffers are not
// parameters and are left out). The models must have the same parameter
// names, in the same order, with the same shapes; neither is modified.
func NewTaskVector(base, finetuned nn.Module) (*TaskVector, error) {
	bs, fs, err := matchedParameters(base, []nn.Module{finetuned})
	if err != nil {
		return nil, err
	}
	v := &TaskVector{Deltas: make([]nn.NamedTensor, len(bs)), Base: fingerprint(bs)}
	tensor.WithNoGrad(func() {
		for i, b := range bs {
			v.Deltas[i] = nn.NamedTensor{Name: b.Name, Tensor: fs[0][i].Tensor.Detach().Sub(b.Tensor.Detach())}
		}
	})
	return v, nil
}

// matchedParameters returns the named parameters of base and of each
// fine-tuned model, after checking that they agree in names, order and
// shapes.
func matchedParameters(base nn.Module, finetuned []nn.Module) ([]nn.NamedTensor, [][]nn.NamedTensor, error) {
	if base == nil {
		return nil, nil, errors.New("merge: the base model is nil")
	}
	for k, m := range finetuned {
		if m == nil {
			return nil, nil, fmt.Errorf("merge: model %d is nil", k)
		}
	}
	bs := nn.NamedParameters(base)
	fs := make([][]nn.NamedTensor, len(finetuned))
	for k, m := range finetuned {
		fs[k] = nn.NamedParameters(m)
		if err := sameLayout("base", bs, fmt.Sprintf("model %d", k), fs[k]); err != nil {
			return nil, nil, err
		}
	}
	return bs, fs, nil
}

// sameLayout checks that two lists of named tensors agree in names, order
// and shapes, naming the first difference.
func sameLayout(aName string, a []nn.NamedTensor, bName string, b []nn.NamedTensor) error {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].Name != b[i].Name {
			return fmt.Errorf("merge: parameter %d is %q in the %s but %q in %s", i, a[i].Name, aName, b[i].Name, bName)
		}
		if !tensor.SameShape(a[i].Tensor, b[i].Tensor) {
			return fmt.Errorf("merge: parameter %q has shape %s in the %s but %s in %s", a[i].Name,
				tensor.FormatShape(a[i].Tensor.Shape()), aName, tensor.FormatShape(b[i].Tensor.Shape()), bName)
		}
	}
	switch {
	case len(a) > len(b):
		return fmt.Errorf("merge: the %s has %d parameters but %s has %d: %q is missing there", aName, len(a), bName, len(b), a[len(b)].Name)
	case len(b) > len(a):
		return fmt.Errorf("merge: the %s has %d parameters but %s has %d: %q is extra there", aName, len(a), bName, len(b), b[len(a)].Name)
	}
	return nil
}

// fingerprint hashes the names, shapes and values of the tensors.
func fingerprint(ts []nn.NamedTensor) string {
	h := fnv.New64a()
	var buf [4]byte
	for _, t := range ts {
		h.Write([]byte(t.Name))
		for _, d := range t.Tensor.Shape() {
			fmt.Fprintf(h, ",%d", d)
		}
		for _, x := range t.Tensor.Data() {
			u := math.Float32bits(x)
			buf[0], buf[1], buf[2], buf[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
			h.Write(buf[:])
		}
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// compatible checks that w was taken from the same base as v, with the same
// parameters.
func (v *TaskVector) compatible(w *TaskVector) error {
	if v == nil || w == nil {
		return errors.New("merge: nil task vector")
	}
	if v.Base != w.Base {
		return fmt.Errorf("merge: the task vectors come from different bases (fingerprints %s and %s)", v.Base, w.Base)
	}
	return sameLayout("first task vector", v.Deltas, "the second", w.Deltas)
}

// Scale returns the task vector multiplied by s (a new vector; v is
// unchanged).
func (v *TaskVector) Scale(s float64) *TaskVector {
	out := &TaskVector{Deltas: make([]nn.NamedTensor, len(v.Deltas)), Base: v.Base}
	tensor.WithNoGrad(func() {
		for i, d := range v.Deltas {
			out.Deltas[i] = nn.NamedTensor{Name: d.Name, Tensor: d.Tensor.Scale(float32(s))}
		}
	})
	return out
}

// Add returns the sum v + w of two task vectors of the same base (a new
// vector; neither is changed).
func (v *TaskVector) Add(w *TaskVector) (*TaskVector, error) {
	if err := v.compatible(w); err != nil {
		return nil, err
	}
	out := &TaskVector{Deltas: make([]nn.NamedTensor, len(v.Deltas)), Base: v.Base}
	tensor.WithNoGrad(func() {
		for i, d := range v.Deltas {
			out.Deltas[i] = nn.NamedTensor{Name: d.Name, Tensor: d.Tensor.Add(w.Deltas[i].Tensor)}
		}
	})
	return out, nil
}

// Norm returns the Euclidean norm of the whole task vector, all parameters
// together.
func (v *TaskVector) Norm() float64 {
	var s float64
	for _, d := range v.Deltas {
		s += dot64(d.Tensor.Data(), d.Tensor.Data())
	}
	return math.Sqrt(s)
}

// Norms returns the Euclidean norm of each parameter's task vector, in
// parameter order.
func (v *TaskVector) Norms() []float64 {
	out := make([]float64, len(v.Deltas))
	for i, d := range v.Deltas {
		out[i] = math.Sqrt(dot64(d.Tensor.Data(), d.Tensor.Data()))
	}
	return out
}

// Cosine returns the cosine similarity of two task vectors of the same
// base, all parameters together (0 when either is zero).
func (v *TaskVector) Cosine(w *TaskVector) (float64, error) {
	if err := v.compatible(w); err != nil {
		return 0, err
	}
	var vw, vv, ww float64
	for i, d := range v.Deltas {
		a, b := d.Tensor.Data(), w.Deltas[i].Tensor.Data()
		vw += dot64(a, b)
		vv += dot64(a, a)
		ww += dot64(b, b)
	}
	return safeCosine(vw, vv, ww), nil
}

// Cosines returns the cosine similarity of two task vectors of the same
// base for each parameter, in parameter order (0 where either is zero).
func (v *TaskVector) Cosines(w *TaskVector) ([]float64, error) {
	if err := v.compatible(w); err != nil {
		return nil, err
	}
	out := make([]float64, len(v.Deltas))
	for i, d := range v.Deltas {
		out[i] = cosine32(d.Tensor.Data(), w.Deltas[i].Tensor.Data())
	}
	return out, nil
}

// Display shows the task vector as a table of its per-parameter norms.
func (v *TaskVector) Display() display.Bundle {
	t, err := TaskVectorTable([]string{"task vector"}, []*TaskVector{v})
	if err != nil {
		return display.NewBundle(err.Error())
	}
	return t.Display()
}

// Plot draws the norm of each parameter's task vector as bars.
func (v *TaskVector) Plot() (*viz.Figure, error) {
	return PlotTaskVectors([]string{"task vector"}, []*TaskVector{v})
}

// String summarises the task vector: its size and norm.
func (v *TaskVector) String() string {
	n := 0
	for _, d := range v.Deltas {
		n += d.Tensor.Len()
	}
	return fmt.Sprintf("TaskVector: %d parameters, %d values, norm %.4g, base %s", len(v.Deltas), n, v.Norm(), v.Base)
}

// TaskVectorTable tabulates task vectors of one base side by side: a row
// per parameter with its shape and each vector's norm, then, for two or
// more vectors, the cosine similarity between them (the mean over pairs for
// more than two); the footer holds the same figures over all parameters.
func TaskVectorTable(names []string, vs []*TaskVector) (*table.Table, error) {
	if err := checkNamed(names, vs); err != nil {
		return nil, err
	}
	cols := []string{"parameter", "shape"}
	for _, n := range names {
		cols = append(cols, "‖"+n+"‖")
	}
	pairs := len(vs) > 1
	if pairs {
		cols = append(cols, "cosine")
	}
	t := table.New(cols...)
	t.Digits = 3
	norms := make([][]float64, len(vs))
	for k, v := range vs {
		norms[k] = v.Norms()
	}
	for i, d := range vs[0].Deltas {
		row := []any{d.Name, tensor.FormatShape(d.Tensor.Shape())}
		for k := range vs {
			row = append(row, norms[k][i])
		}
		if pairs {
			row = append(row, meanPairwiseCosine(columnOf(vs, i)))
		}
		if err := t.AddRow(row...); err != nil {
			return nil, err
		}
	}
	foot := []any{"all", ""}
	for _, v := range vs {
		foot = append(foot, v.Norm())
	}
	if pairs {
		var s float64
		n := 0
		for a := range vs {
			for b := a + 1; b < len(vs); b++ {
				c, _ := vs[a].Cosine(vs[b])
				s += c
				n++
			}
		}
		foot = append(foot, s/float64(n))
	}
	if err := t.SetFooter(foot...); err != nil {
		return nil, err
	}
	return t, nil
}

// PlotTaskVectors draws the per-parameter norms of task vectors of one base
// as grouped bars, one group per vector, with their cosine similarity in the
// title when there are two.
func PlotTaskVectors(names []string, vs []*TaskVector) (*viz.Figure, error) {
	if err := checkNamed(names, vs); err != nil {
		return nil, err
	}
	labels := make([]string, len(vs[0].Deltas))
	for i, d := range vs[0].Deltas {
		labels[i] = d.Name
	}
	groups := make([]viz.BarGroup, len(vs))
	for k, v := range vs {
		groups[k] = viz.BarGroup{Name: names[k], Values: v.Norms()}
	}
	title := "task vector norm per parameter"
	if len(vs) == 2 {
		c, _ := vs[0].Cosine(vs[1])
		title += fmt.Sprintf(" (cosine %.3f)", c)
	}
	return viz.Bars(labels, groups, viz.BarOptions{Options: viz.Options{Title: title, YLabel: "‖θ_ft − θ_base‖"}})
}

// checkNamed checks a list of task vectors with one name each, all of one
// base.
func checkNamed(names []string, vs []*TaskVector) error {
	if len(vs) == 0 {
		return errors.New("merge: no task vectors")
	}
	if len(names) != len(vs) {
		return fmt.Errorf("merge: %d names for %d task vectors", len(names), len(vs))
	}
	if vs[0] == nil {
		return errors.New("merge: nil task vector")
	}
	for k := 1; k < len(vs); k++ {
		if err := vs[0].compatible(vs[k]); err != nil {
			return fmt.Errorf("%w (task vectors %q and %q)", err, names[0], names[k])
		}
	}
	return nil
}

// columnOf returns parameter i of every task vector.
func columnOf(vs []*TaskVector, i int) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(vs))
	for k, v := range vs {
		out[k] = v.Deltas[i].Tensor
	}
	return out
}

// Merge merges fine-tuned models of one base with m and returns the merged
// model's state: per parameter, base + m.MergeTensor(name, base, task
// vectors), and per buffer (such as batch-norm running statistics, which
// have no task vector) the plain mean of the fine-tuned models' buffers —
// the statistics of the merged network are unknown without data, and the
// mean of the fine-tunes' is closer to them than the base's. Integer-valued
// counters (num_batches_tracked) are averaged too and rounded. The entries
// are in state-dict order, ready for nn.LoadStateDict. No input is modified.
func Merge(base nn.Module, finetuned []nn.Module, m Method) ([]nn.NamedTensor, error) {
	if m == nil {
		return nil, errors.New("merge: nil method")
	}
	if len(finetuned) == 0 {
		return nil, errors.New("merge: no fine-tuned models")
	}
	bs, fs, err := matchedParameters(base, finetuned)
	if err != nil {
		return nil, err
	}
	merged := make(map[string]*tensor.Tensor, len(bs))
	restore := tensor.NoGrad()
	defer restore()
	for i, b := range bs {
		base := b.Tensor.Detach()
		deltas := make([]*tensor.Tensor, len(fs))
		for k := range fs {
			deltas[k] = fs[k][i].Tensor.Detach().Sub(base)
		}
		tau, err := m.MergeTensor(b.Name, base, deltas)
		if err != nil {
			return nil, err
		}
		if tau == nil || !tensor.SameShape(tau, base) {
			return nil, fmt.Errorf("merge: %s returned a task vector of shape %s for %q of shape %s", m.Name(),
				shapeString(tau), b.Name, tensor.FormatShape(base.Shape()))
		}
		merged[b.Name] = base.Add(tau)
	}
	bufs, err := meanBuffers(base, finetuned)
	if err != nil {
		return nil, err
	}
	for name, t := range bufs {
		merged[name] = t
	}
	state := nn.StateDict(base)
	out := make([]nn.NamedTensor, 0, len(state))
	for _, e := range state {
		if t, ok := merged[e.Name]; ok {
			out = append(out, nn.NamedTensor{Name: e.Name, Tensor: t})
		}
	}
	return out, nil
}

// MergeInto merges fine-tuned models of one base with m, as Merge does, and
// loads the result into dst, a model of the same architecture: a fresh one,
// or one of the inputs to overwrite (everything is computed before dst is
// written). On error dst is unchanged.
func MergeInto(dst, base nn.Module, finetuned []nn.Module, m Method) error {
	state, err := Merge(base, finetuned, m)
	if err != nil {
		return err
	}
	return nn.LoadStateDict(dst, state, true)
}

// meanBuffers averages each buffer of the fine-tuned models; integer
// counters (names ending in num_batches_tracked) are rounded.
func meanBuffers(base nn.Module, finetuned []nn.Module) (map[string]*tensor.Tensor, error) {
	bb := nn.NamedBuffers(base)
	out := make(map[string]*tensor.Tensor, len(bb))
	fbs := make([][]nn.NamedTensor, len(finetuned))
	for k, m := range finetuned {
		fbs[k] = nn.NamedBuffers(m)
		if err := sameLayout("base", bb, fmt.Sprintf("model %d", k), fbs[k]); err != nil {
			return nil, fmt.Errorf("%w (buffers)", err)
		}
	}
	for i, b := range bb {
		s := make([]float64, b.Tensor.Len())
		for k := range fbs {
			for j, x := range fbs[k][i].Tensor.Data() {
				s[j] += float64(x)
			}
		}
		for j := range s {
			s[j] /= float64(len(fbs))
			if strings.HasSuffix(b.Name, "num_batches_tracked") {
				s[j] = math.Round(s[j])
			}
		}
		out[b.Name] = tensor.FromFloat64(s, b.Tensor.Shape()...)
	}
	return out, nil
}

func shapeString(t *tensor.Tensor) string {
	if t == nil {
		return "<nil>"
	}
	return tensor.FormatShape(t.Shape())
}

// dot64 returns Σ a_i b_i in float64.
func dot64(a, b []float32) float64 {
	var s float64
	for i, x := range a {
		s += float64(x) * float64(b[i])
	}
	return s
}

// cosine32 returns the cosine similarity of a and b, 0 when either is zero.
func cosine32(a, b []float32) float64 {
	return safeCosine(dot64(a, b), dot64(a, a), dot64(b, b))
}

func safeCosine(ab, aa, bb float64) float64 {
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// meanPairwiseCosine returns the mean cosine similarity over the pairs of
// ts (0 for fewer than two).
func meanPairwiseCosine(ts []*tensor.Tensor) float64 {
	var s float64
	n := 0
	for a := range ts {
		for b := a + 1; b < len(ts); b++ {
			s += cosine32(ts[a].Data(), ts[b].Data())
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

// needDeltas checks that a method got at least min task vectors, all of
// base's shape.
func needDeltas(method, name string, base *tensor.Tensor, deltas []*tensor.Tensor, min int) error {
	if len(deltas) < min {
		return fmt.Errorf("merge: %s needs at least %d task vectors for %q, got %d", method, min, name, len(deltas))
	}
	for k, d := range deltas {
		if d == nil || (base != nil && !tensor.SameShape(d, base)) {
			return fmt.Errorf("merge: %s: task vector %d of %q has shape %s, the base %s", method, k, name,
				shapeString(d), shapeString(base))
		}
	}
	return nil
}

// modelWeights checks one weight per model (nil: all 1) and returns them.
func modelWeights(method string, weights []float64, n int) ([]float64, error) {
	if weights == nil {
		w := make([]float64, n)
		for i := range w {
			w[i] = 1
		}
		return w, nil
	}
	if len(weights) != n {
		return nil, fmt.Errorf("merge: %s has %d weights for %d models", method, len(weights), n)
	}
	for i, w := range weights {
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return nil, fmt.Errorf("merge: %s weight %d is %v, want a finite value ≥ 0", method, i, w)
		}
	}
	return weights, nil
}
