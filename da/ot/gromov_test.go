package ot

import (
	"math"
	"strings"
	"testing"
)

// structures returns seeded normalised distance matrices of n points in
// 2-D and m points in 3-D, and weights.
func structures(seed uint64, n, m int) (C1, C2 *Matrix, p, q []float64) {
	r := newTestRand(seed)
	x1, x2 := r.matrix(n, 2), r.matrix(m, 3)
	C1, _ = Dist(x1, x1, Euclidean)
	C2, _ = Dist(x2, x2, Euclidean)
	return C1.Scale(1 / C1.Max()), C2.Scale(1 / C2.Max()), r.weights(n), r.weights(m)
}

// potPlan is a plan and a value from pot_entropic.py.
type potPlan struct {
	T     [][]float64 `json:"T"`
	Value float64     `json:"value"`
}

// gcase is one Gromov-Wasserstein problem sent to POT.
type gcase struct {
	name   string
	C1, C2 *Matrix
	p, q   []float64
	G0     *Matrix
	eps    float64 // 0: conditional gradient
	loss   GWLoss
}

// gromovCases are the problems TestGromovWassersteinMatchesPOT sends.
func gromovCases() []gcase {
	var cases []gcase
	for k := 0; k < 3; k++ {
		C1, C2, p, q := structures(uint64(90+k), 9, 7)
		cases = append(cases, gcase{name: "cg", C1: C1, C2: C2, p: p, q: q, loss: SquareLoss})
	}
	C1, C2, p, q := structures(95, 8, 6)
	// A given initial plan: the exact plan of a random cost.
	r := newTestRand(96)
	e, _ := EMD(p, q, r.matrix(8, 6), EMDOptions{})
	cases = append(cases,
		gcase{name: "cg from G0", C1: C1, C2: C2, p: p, q: q, G0: e.T, loss: SquareLoss},
		gcase{name: "entropic square", C1: C1, C2: C2, p: p, q: q, eps: 0.1, loss: SquareLoss},
		gcase{name: "entropic kl", C1: C1.Scale(2), C2: C2.Scale(2), p: p, q: q, eps: 0.3, loss: KLLoss})
	return cases
}

// gromovCalls are the POT calls of gromovCases.
func gromovCalls() []potCall {
	var calls []potCall
	for _, c := range gromovCases() {
		args := map[string]any{"C1": rows(c.C1), "C2": rows(c.C2), "p": c.p, "q": c.q, "loss": string(c.loss)}
		fn := "gromov"
		if c.G0 != nil {
			args["G0"] = rows(c.G0)
		}
		if c.eps > 0 {
			args["epsilon"] = c.eps
			fn = "entropic_gromov"
		}
		calls = append(calls, potCall{fn, args})
	}
	return calls
}

func TestGromovWassersteinMatchesPOT(t *testing.T) {
	cases := gromovCases()
	want := make([]potPlan, len(cases))
	entropicPOT(t, "gromov", pointers(want)...)
	for k, c := range cases {
		var p *Plan
		var err error
		opt := GWOptions{Loss: c.loss, G0: c.G0}
		if c.eps > 0 {
			p, err = EntropicGromovWasserstein(c.C1, c.C2, c.p, c.q, c.eps, opt)
		} else {
			p, err = GromovWasserstein(c.C1, c.C2, c.p, c.q, opt)
		}
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(t, p.T, want[k].T); d > 1e-6 {
			t.Errorf("%s: max |T − POT| = %g", c.name, d)
		}
		if d := math.Abs(p.Cost - want[k].Value); d > 1e-6 {
			t.Errorf("%s: GW %.10g, POT %.10g", c.name, p.Cost, want[k].Value)
		}
		if !p.Converged || p.MarginalError > 1e-8 {
			t.Errorf("%s: converged %v, marginal error %g", c.name, p.Converged, p.MarginalError)
		}
		t.Logf("%s: GW %.6g in %d iterations", c.name, p.Cost, p.Iterations)
	}
}

func TestGromovWassersteinIsometry(t *testing.T) {
	// A space against a relabelled copy of itself: GW 0, and the plan is
	// the relabelling.
	C1, _, p, _ := structures(97, 7, 3)
	perm := []int{3, 0, 6, 1, 5, 2, 4}
	C2, q := Zeros(7, 7), make([]float64, 7)
	for i := 0; i < 7; i++ {
		q[perm[i]] = p[i]
		for k := 0; k < 7; k++ {
			C2.Set(perm[i], perm[k], C1.At(i, k))
		}
	}
	best := math.Inf(1)
	var plan *Plan
	// Non-convex: take the best of a few starts (G0 = exact plans of random costs).
	r := newTestRand(98)
	for s := 0; s < 5; s++ {
		var G0 *Matrix
		if s > 0 {
			e, _ := EMD(p, q, r.matrix(7, 7), EMDOptions{})
			G0 = e.T
		}
		g, err := GromovWasserstein(C1, C2, p, q, GWOptions{G0: G0})
		if err != nil {
			t.Fatal(err)
		}
		if g.Cost < best {
			best, plan = g.Cost, g
		}
	}
	if best > 1e-12 {
		t.Fatalf("GW of isometric spaces = %g", best)
	}
	for i := 0; i < 7; i++ {
		if math.Abs(plan.T.At(i, perm[i])-p[i]) > 1e-12 {
			t.Errorf("T[%d,%d] = %g, want %g", i, perm[i], plan.T.At(i, perm[i]), p[i])
		}
	}
}

func TestGromovWassersteinKLDescends(t *testing.T) {
	// POT 0.8.2's line search is the square loss's whatever the loss, so
	// the KL conditional gradient is checked by its properties: it lowers
	// the loss of the initial plan, keeps the marginals, and its value is
	// the definition's quadruple sum.
	C1, C2, p, q := structures(94, 6, 5)
	C1, C2 = C1.Scale(2), C2.Scale(2)
	for i := range C1.Data {
		C1.Data[i] += 0.1
	}
	for i := range C2.Data {
		C2.Data[i] += 0.1
	}
	g, err := GromovWasserstein(C1, C2, p, q, GWOptions{Loss: KLLoss})
	if err != nil {
		t.Fatal(err)
	}
	quad := func(T *Matrix) float64 {
		s := 0.0
		for i := 0; i < 6; i++ {
			for k := 0; k < 6; k++ {
				for j := 0; j < 5; j++ {
					for l := 0; l < 5; l++ {
						x, y := C1.At(i, k), C2.At(j, l)
						s += (x*math.Log(x/y) - x + y) * T.At(i, j) * T.At(k, l)
					}
				}
			}
		}
		return s
	}
	if d := math.Abs(g.Cost - quad(g.T)); d > 1e-9 {
		t.Errorf("KL GW %.12g, quadruple sum %.12g", g.Cost, quad(g.T))
	}
	if start := quad(outer(p, q)); !(g.Cost < start) || !g.Converged || g.MarginalError > 1e-12 {
		t.Errorf("KL GW %.6g from %.6g at p·qᵀ, converged %v, marginal error %g", g.Cost, start, g.Converged, g.MarginalError)
	}
}

func TestGromovWassersteinBadInput(t *testing.T) {
	C1, C2, p, q := structures(99, 4, 3)
	rect := Zeros(4, 3)
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"not square", func() error { _, err := GromovWasserstein(rect, C2, p, q, GWOptions{}); return err }, "C1 is 4×3"},
		{"unknown loss", func() error { _, err := GromovWasserstein(C1, C2, p, q, GWOptions{Loss: "l1"}); return err }, `"l1"`},
		{"bad G0", func() error { _, err := GromovWasserstein(C1, C2, p, q, GWOptions{G0: Zeros(4, 3)}); return err }, "G0 misses"},
		{"eps 0", func() error { _, err := EntropicGromovWasserstein(C1, C2, p, q, 0, GWOptions{}); return err }, "eps = 0"},
		{"masses", func() error { _, err := GromovWasserstein(C1, C2, p, []float64{1, 1, 1}, GWOptions{}); return err }, "different masses"},
	} {
		if err := c.run(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
