package ot

import (
	"math"
	"strings"
	"testing"
)

// oneD is a 1-D transport problem.
type oneD struct {
	xs, xt, a, b []float64
	p            float64
}

// oneDProblems returns seeded 1-D problems for several exponents.
func oneDProblems() []oneD {
	r := newTestRand(21)
	line := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = r.r.NormFloat64()
		}
		return x
	}
	return []oneD{
		{line(9), line(13), r.weights(9), r.weights(13), 1},
		{line(20), line(7), r.weights(20), r.weights(7), 2},
		{line(15), line(15), Uniform(15), Uniform(15), 1.5},
		{line(6), line(11), r.weights(6), r.weights(11), 3},
	}
}

// oneDCalls are the POT calls of TestEMD1DMatchesPOT.
func oneDCalls() []potCall {
	var calls []potCall
	for _, c := range oneDProblems() {
		calls = append(calls, potCall{"emd_1d", map[string]any{"xs": c.xs, "xt": c.xt, "a": c.a, "b": c.b, "p": c.p}})
	}
	return calls
}

func TestEMD1DMatchesPOT(t *testing.T) {
	type ref struct {
		T             [][]float64
		EMD2_1D       float64 `json:"emd2_1d"`
		Wasserstein1D float64 `json:"wasserstein_1d"`
	}
	cases := oneDProblems()
	want := make([]ref, len(cases))
	exactPOT(t, "1d", pointers(want)...)
	for k, c := range cases {
		p, err := EMD1D(c.xs, c.xt, c.a, c.b, c.p)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := Wasserstein1D(c.xs, c.xt, c.a, c.b, c.p)
		if math.Abs(p.Cost-want[k].EMD2_1D) > 1e-12 || math.Abs(w-want[k].Wasserstein1D) > 1e-12 {
			t.Errorf("p=%g: cost %.15g / %.15g, POT emd2_1d %.15g, wasserstein_1d %.15g", c.p, p.Cost, w, want[k].EMD2_1D, want[k].Wasserstein1D)
		}
		if d := maxAbsDiff(t, p.T, want[k].T); d > 1e-12 {
			t.Errorf("p=%g: max |T − T_POT| = %g", c.p, d)
		}
		if p.MarginalError > 1e-12 {
			t.Errorf("p=%g: marginal error %g", c.p, p.MarginalError)
		}
		// The 1-D plan is optimal for the full problem too.
		M := Zeros(len(c.xs), len(c.xt))
		for i, x := range c.xs {
			for j, y := range c.xt {
				M.Set(i, j, math.Pow(math.Abs(x-y), c.p))
			}
		}
		e, _ := EMD(c.a, c.b, M, EMDOptions{})
		if math.Abs(e.Cost-p.Cost) > 1e-12 {
			t.Errorf("p=%g: 1-D cost %.15g, EMD on the full cost %.15g", c.p, p.Cost, e.Cost)
		}
	}
}

func TestEMD1DByHand(t *testing.T) {
	// Two unit masses at 0 and 1 go to 2 and 3 in order: W_1 = 2, W_2² = 4.
	for _, c := range []struct{ p, want float64 }{{1, 2}, {2, 4}} {
		w, err := Wasserstein1D([]float64{1, 0}, []float64{2, 3}, nil, nil, c.p)
		if err != nil || w != c.want {
			t.Errorf("p=%g: %g, %v (want %g)", c.p, w, err, c.want)
		}
	}
	p, _ := EMD1D([]float64{1, 0}, []float64{3, 2}, nil, nil, 1)
	if p.T.At(0, 0) != 0.5 || p.T.At(1, 1) != 0.5 {
		t.Errorf("plan %v", p.T)
	}
	for _, c := range []struct {
		xs, a []float64
		p     float64
		want  string
	}{
		{[]float64{0, math.Inf(1)}, nil, 1, "xs[1] is +Inf"},
		{[]float64{0, 1}, nil, 0.5, "p = 0.5"},
		{[]float64{0, 1}, []float64{1, -1}, 1, "a[1] = -1 is negative"},
		{[]float64{0, 1}, []float64{1}, 1, "a has 1 weights"},
		{nil, nil, 1, "0 source"},
	} {
		if _, err := EMD1D(c.xs, []float64{1, 2}, c.a, nil, c.p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}

// partialProblem is a partial transport problem.
type partialProblem struct {
	a, b []float64
	M    *Matrix
	mass float64
}

// partialProblems returns seeded partial problems, some with a and b of
// different masses.
func partialProblems() []partialProblem {
	r := newTestRand(31)
	var cases []partialProblem
	for _, c := range []struct {
		n, m int
		mass float64
		sb   float64 // mass of b
	}{{10, 14, 0.3, 1}, {25, 20, 0.75, 1}, {12, 12, 1, 1}, {15, 9, 0.5, 0.8}} {
		M, _ := Dist(r.matrix(c.n, 2), r.matrix(c.m, 2), SqEuclidean)
		b := r.weights(c.m)
		for j := range b {
			b[j] *= c.sb
		}
		cases = append(cases, partialProblem{r.weights(c.n), b, M, c.mass})
	}
	return cases
}

// partialCalls are the POT calls of TestPartialEMDMatchesPOT.
func partialCalls() []potCall {
	var calls []potCall
	for _, c := range partialProblems() {
		calls = append(calls, potCall{"partial", map[string]any{"a": c.a, "b": c.b, "M": rows(c.M), "m": c.mass}})
	}
	return calls
}

func TestPartialEMDMatchesPOT(t *testing.T) {
	type ref struct {
		T    [][]float64
		Cost float64
	}
	cases := partialProblems()
	want := make([]ref, len(cases))
	exactPOT(t, "partial", pointers(want)...)
	for k, c := range cases {
		p, err := PartialEMD(c.a, c.b, c.M, c.mass, EMDOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p.Cost-want[k].Cost) > 1e-9 {
			t.Errorf("mass %g: cost %.15g, POT %.15g", c.mass, p.Cost, want[k].Cost)
		}
		if d := maxAbsDiff(t, p.T, want[k].T); d > 1e-12 {
			t.Errorf("mass %g: max |T − T_POT| = %g", c.mass, d)
		}
		if p.MarginalError > 1e-12 || !p.Converged {
			t.Errorf("mass %g: marginal error %g, converged %v", c.mass, p.MarginalError, p.Converged)
		}
	}
}

func TestPartialEMDByHand(t *testing.T) {
	// a = b = (0.5, 0.5): moving mass 0.5 takes the cheapest cell (0,0).
	M, _ := FromRows([][]float64{{0, 1}, {2, 3}})
	p, err := PartialEMD(nil, nil, M, 0.5, EMDOptions{})
	if err != nil || p.Cost != 0 || p.T.At(0, 0) != 0.5 || p.T.Sum() != 0.5 {
		t.Errorf("m=0.5: %v %v", p, err)
	}
	// With negative costs all moved mass still equals m exactly.
	N, _ := FromRows([][]float64{{-1, -2}, {-3, -4}})
	p, _ = PartialEMD(nil, nil, N, 0.25, EMDOptions{})
	if p.T.At(1, 1) != 0.25 || p.T.Sum() != 0.25 || p.Cost != -1 {
		t.Errorf("negative costs: %v cost %g", p.T, p.Cost)
	}
	for _, c := range []struct {
		mass float64
		want string
	}{{1.5, "mass = 1.5"}, {-0.1, "mass = -0.1"}, {math.NaN(), "mass = NaN"}} {
		if _, err := PartialEMD(nil, nil, M, c.mass, EMDOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}

// mappingProblem returns seeded source and target samples (the target
// shifted by 3 along x), new samples of each, labels, and the options
// compared with POT: the default and semi-supervised with median
// normalisation.
func mappingProblem() (xs, xt, xnew, xtnew *Matrix, opts []MappingOptions) {
	r := newTestRand(41)
	shift := func(m *Matrix, dx float64) *Matrix {
		for i := 0; i < m.Rows; i++ {
			m.Row(i)[0] += dx
		}
		return m
	}
	xs, xt = r.matrix(30, 2), shift(r.matrix(24, 2), 3)
	xnew, xtnew = r.matrix(7, 2), shift(r.matrix(5, 2), 3)
	ys, yt := make([]int, 30), make([]int, 24)
	for i := range ys {
		ys[i] = i % 2
	}
	for j := range yt {
		yt[j] = j%3 - 1
	}
	return xs, xt, xnew, xtnew, []MappingOptions{{}, {Norm: "median", Ys: ys, Yt: yt}}
}

// mappingCalls are the POT calls of TestMappingMatchesPOT.
func mappingCalls() []potCall {
	xs, xt, xnew, xtnew, opts := mappingProblem()
	var calls []potCall
	for _, o := range opts {
		args := map[string]any{"xs": rows(xs), "xt": rows(xt), "xnew": rows(xnew), "xtnew": rows(xtnew)}
		if o.Norm != "" {
			args["norm"] = o.Norm
		}
		if o.Ys != nil {
			args["ys"], args["yt"] = o.Ys, o.Yt
		}
		calls = append(calls, potCall{"emd_transport", args})
	}
	return calls
}

func TestMappingMatchesPOT(t *testing.T) {
	type ref struct {
		T           [][]float64
		Fitted, New [][]float64
		Inverse     [][]float64
		InverseNew  [][]float64 `json:"inverse_new"`
	}
	xs, xt, xnew, xtnew, opts := mappingProblem()
	want := make([]ref, len(opts))
	exactPOT(t, "mapping", &want[0], &want[1])
	for k, opt := range opts {
		mp, err := FitMapping(xs, xt, opt)
		if err != nil {
			t.Fatal(err)
		}
		fitted, _ := mp.Transform(xs)
		moved, _ := mp.Transform(xnew)
		inv, _ := mp.InverseTransform(xt)
		invNew, _ := mp.InverseTransform(xtnew)
		for _, c := range []struct {
			name string
			got  *Matrix
			want [][]float64
		}{{"plan", mp.Plan.T, want[k].T}, {"fitted", fitted, want[k].Fitted}, {"new", moved, want[k].New},
			{"inverse", inv, want[k].Inverse}, {"inverse new", invNew, want[k].InverseNew}} {
			if d := maxAbsDiff(t, c.got, c.want); d > 1e-12 {
				t.Errorf("options %d, %s: max |graft − POT| = %g", k, c.name, d)
			}
		}
	}
	if _, err := FitMapping(xs, xt, MappingOptions{Norm: "l2"}); err == nil || !strings.Contains(err.Error(), `"l2"`) {
		t.Errorf("bad norm: %v", err)
	}
	if _, err := FitMapping(xs, Zeros(0, 2), MappingOptions{}); err == nil || !strings.Contains(err.Error(), "30×2 and 0×2") {
		t.Errorf("empty target: %v", err)
	}
}
