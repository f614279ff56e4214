package ot

import (
	"fmt"
	"math"
	"slices"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz"
)

// MappingOptions configures FitMapping. The zero value is POT's
// ot.da.EMDTransport(): squared Euclidean cost, no normalisation, uniform
// sample weights, EMD.
type MappingOptions struct {
	// Metric is the ground cost between samples ("": SqEuclidean).
	Metric Metric
	// Norm rescales the cost before solving, as POT's cost_normalization:
	// "" (none), "max" (divide by the largest cost), "median" (by the
	// median), "log" (log(1+C)) or "loglog" (log(1+log(1+C))).
	Norm string
	// Solver computes the plan between weights a and b for the cost M
	// (nil: EMD with default options); wrap any other solver of the
	// package in a closure, e.g. an entropic one with its ε.
	Solver func(a, b []float64, M *Matrix) (*Plan, error)
	// Ws and Wt weight the source and target samples (nil: uniform).
	Ws, Wt []float64
	// Ys and Yt are optional class labels (−1: unlabelled target sample).
	// When both are given, moving a source sample of class c to a
	// labelled target sample of another class costs LimitMax·max(C), as
	// in POT's semi-supervised fit.
	Ys, Yt []int
	// LimitMax is that cost factor (0: 10, POT's default).
	LimitMax float64
}

// Mapping is an optimal transport domain adaptation fitted on source and
// target samples: the plan between them and the barycentric map it
// induces (POT's BaseTransport).
type Mapping struct {
	// Xs and Xt are the fitted source and target samples, one per row.
	Xs, Xt *Matrix
	// Cost is the (normalised) cost matrix the plan was solved for.
	Cost *Matrix
	// Plan is the coupling between Xs and Xt.
	Plan *Plan
}

// FitMapping computes the transport plan between source samples xs (n×d)
// and target samples xt (m×d).
func FitMapping(xs, xt *Matrix, opt MappingOptions) (*Mapping, error) {
	if xs == nil || xt == nil || xs.Rows == 0 || xt.Rows == 0 {
		return nil, fmt.Errorf("ot: mapping needs source and target samples, got %s and %s", matrixShape(xs), matrixShape(xt))
	}
	C, err := Dist(xs, xt, opt.Metric)
	if err != nil {
		return nil, err
	}
	if err := normalizeCost(C, opt.Norm); err != nil {
		return nil, err
	}
	if opt.Ys != nil && opt.Yt != nil {
		if len(opt.Ys) != xs.Rows || len(opt.Yt) != xt.Rows {
			return nil, fmt.Errorf("ot: mapping: %d source labels for %d samples, %d target labels for %d samples", len(opt.Ys), xs.Rows, len(opt.Yt), xt.Rows)
		}
		limit := opt.LimitMax
		if limit == 0 {
			limit = 10
		}
		limit *= C.Max()
		for i, ys := range opt.Ys {
			for j, yt := range opt.Yt {
				if ys != -1 && yt != -1 && ys != yt {
					C.Set(i, j, limit)
				}
			}
		}
	}
	solve := opt.Solver
	if solve == nil {
		solve = func(a, b []float64, M *Matrix) (*Plan, error) { return EMD(a, b, M, EMDOptions{}) }
	}
	ws, wt := orUniform(opt.Ws, xs.Rows), orUniform(opt.Wt, xt.Rows)
	p, err := solve(ws, wt, C)
	if err != nil {
		return nil, err
	}
	if p == nil || p.T == nil || p.T.Rows != xs.Rows || p.T.Cols != xt.Rows {
		return nil, fmt.Errorf("ot: mapping: the solver returned no %d×%d plan", xs.Rows, xt.Rows)
	}
	return &Mapping{Xs: xs.Clone(), Xt: xt.Clone(), Cost: C, Plan: p}, nil
}

// matrixShape describes a possibly nil matrix for error messages.
func matrixShape(m *Matrix) string {
	if m == nil {
		return "nil"
	}
	return fmt.Sprintf("%d×%d", m.Rows, m.Cols)
}

// normalizeCost applies POT's cost_normalization in place.
func normalizeCost(C *Matrix, norm string) error {
	switch norm {
	case "":
	case "max":
		mx := C.Max()
		for k := range C.Data {
			C.Data[k] /= mx
		}
	case "median":
		s := slices.Clone(C.Data)
		slices.Sort(s)
		med := s[len(s)/2]
		if len(s)%2 == 0 {
			med = (s[len(s)/2-1] + med) / 2
		}
		for k := range C.Data {
			C.Data[k] /= med
		}
	case "log":
		for k, v := range C.Data {
			C.Data[k] = math.Log1p(v)
		}
	case "loglog":
		for k, v := range C.Data {
			C.Data[k] = math.Log1p(math.Log1p(v))
		}
	default:
		return fmt.Errorf("ot: mapping: unknown cost normalisation %q (want \"\", \"max\", \"median\", \"log\" or \"loglog\")", norm)
	}
	return nil
}

// Transform moves source samples onto the target domain. The fitted
// source samples (x equal to Xs) go to their barycentric images
// Σ_j T_ij xt_j / Σ_j T_ij; any other samples move by the displacement of
// their nearest fitted source sample (POT's transform).
func (mp *Mapping) Transform(x *Matrix) (*Matrix, error) {
	return barycentricMap(x, mp.Xs, mp.Xt, mp.Plan.T, false)
}

// InverseTransform moves target samples onto the source domain, the same
// way with the plan transposed (POT's inverse_transform).
func (mp *Mapping) InverseTransform(x *Matrix) (*Matrix, error) {
	return barycentricMap(x, mp.Xt, mp.Xs, mp.Plan.T, true)
}

// barycentricMap maps x, samples of the domain `from`, into the domain
// `to` through plan T (indexed [from, to], or [to, from] when transposed).
func barycentricMap(x, from, to, T *Matrix, transposed bool) (*Matrix, error) {
	if x == nil || x.Cols != from.Cols {
		return nil, fmt.Errorf("ot: mapping: samples are %s, the fitted ones have %d features", matrixShape(x), from.Cols)
	}
	d := from.Cols
	// Images of the fitted samples: rows of T normalised, times `to`.
	img := Zeros(from.Rows, d)
	for i := 0; i < from.Rows; i++ {
		out := img.Row(i)
		w := 0.0
		for j := 0; j < to.Rows; j++ {
			t := T.Data[i*T.Cols+j]
			if transposed {
				t = T.Data[j*T.Cols+i]
			}
			if t == 0 {
				continue
			}
			w += t
			for k, v := range to.Row(j) {
				out[k] += t * v
			}
		}
		if w > 0 {
			for k := range out {
				out[k] /= w
			}
		}
	}
	if slices.Equal(x.Data, from.Data) && x.Rows == from.Rows {
		return img, nil
	}
	y := Zeros(x.Rows, d)
	for i := 0; i < x.Rows; i++ {
		xi := x.Row(i)
		best, bi := math.Inf(1), 0
		for f := 0; f < from.Rows; f++ {
			s := 0.0
			for k, v := range from.Row(f) {
				s += (v - xi[k]) * (v - xi[k])
			}
			if s < best {
				best, bi = s, f
			}
		}
		out, src, im := y.Row(i), from.Row(bi), img.Row(bi)
		for k := range out {
			out[k] = im[k] + xi[k] - src[k]
		}
	}
	return y, nil
}

// String describes the mapping: its samples and how its plan was solved.
func (mp *Mapping) String() string {
	return fmt.Sprintf("ot.Mapping %d source → %d target samples (%d features); plan: %s",
		mp.Xs.Rows, mp.Xt.Rows, mp.Xs.Cols, mp.Plan.Summary())
}

// Plot draws the source samples, the target samples and the mapped source
// samples (their first two features) coloured by group.
func (mp *Mapping) Plot(opt viz.ScatterOptions) (*viz.Figure, error) {
	if mp.Xs.Cols < 2 {
		return nil, fmt.Errorf("ot: mapping: plotting needs 2 features, the samples have %d", mp.Xs.Cols)
	}
	moved, err := mp.Transform(mp.Xs)
	if err != nil {
		return nil, err
	}
	var pts []float64
	var group []int
	for g, m := range []*Matrix{mp.Xs, mp.Xt, moved} {
		for i := 0; i < m.Rows; i++ {
			pts = append(pts, m.At(i, 0), m.At(i, 1))
			group = append(group, g)
		}
	}
	if opt.Labels == nil {
		opt.Labels = group
		opt.ClassNames = []string{"source", "target", "source mapped"}
	}
	if opt.Title == "" {
		opt.Title = fmt.Sprintf("%s: cost %.4g", mp.Plan.Method, mp.Plan.Cost)
		if mp.Xs.Cols > 2 {
			opt.Title += fmt.Sprintf(" (features 0 and 1 of %d)", mp.Xs.Cols)
		}
	}
	return viz.Scatter(tensor.FromFloat64(pts, len(group), 2), opt)
}

// Display shows the mapping in a notebook: the scatter of Plot, with
// String as the text form.
func (mp *Mapping) Display() display.Bundle {
	f, err := mp.Plot(viz.ScatterOptions{})
	return viz.FigureBundle(mp.String(), f, err)
}
