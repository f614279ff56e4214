package tensor

import (
	"math"
	"testing"
)

func TestDropoutTraining(t *testing.T) {
	const n = 100_000
	for _, p := range []float32{0.1, 0.3, 0.5, 0.9} {
		x := Arange(1, n+1, 1) // distinct, non-zero values
		y := x.Dropout(p, NewRNG(42), true)
		q := 1 - p
		replay := NewRNG(42)
		kept := 0
		for i, v := range y.Data() {
			keep := replay.Float64() >= float64(p)
			switch {
			case keep && v != x.Data()[i]/q:
				t.Fatalf("p=%v: kept element %d = %v, want exactly %v", p, i, v, x.Data()[i]/q)
			case !keep && v != 0:
				t.Fatalf("p=%v: dropped element %d = %v, want 0", p, i, v)
			}
			if keep {
				kept++
			}
		}
		if frac := float64(kept) / n; math.Abs(frac-float64(q)) > 0.01 {
			t.Fatalf("p=%v: kept fraction %.4f, want %.2f ± 0.01", p, frac, q)
		}
	}
}

func TestDropoutIdentityCases(t *testing.T) {
	x := seq(3, 4)
	cases := []struct {
		name     string
		p        float32
		training bool
	}{
		{"eval", 0.5, false},
		{"eval p=0", 0, false},
		{"training p=0", 0, true},
	}
	for _, c := range cases {
		if y := x.Dropout(c.p, NewRNG(1), c.training); y != x {
			t.Fatalf("%s: got a new tensor, want the input itself", c.name)
		}
	}
	// eval mode needs no random source
	if y := x.Dropout(0.5, nil, false); y != x {
		t.Fatal("eval with nil Rand changed the tensor")
	}
}

func TestDropoutGradientIsMask(t *testing.T) {
	const p = 0.4
	x := Arange(1, 1001, 1).SetRequiresGrad(true)
	y := x.Dropout(p, NewRNG(9), true)
	y.Mul(Full(2, 1000)).Sum().Backward()
	replay := NewRNG(9)
	q := float32(1 - p)
	for i, g := range x.Grad().Data() {
		want := float32(0)
		if replay.Float64() >= p {
			want = 2 / q
		}
		if g != want {
			t.Fatalf("grad[%d] = %v, want %v", i, g, want)
		}
	}
}

func TestGradientsDropout(t *testing.T) {
	runGradCases(t, []gradCase{
		// A fresh generator per call draws the same mask every time.
		{"dropout", []*Tensor{seq(4, 5)}, func(in ...*Tensor) *Tensor { return in[0].Dropout(0.3, NewRNG(5), true) }},
		{"dropout then square", []*Tensor{seq(3, 3)}, func(in ...*Tensor) *Tensor { return in[0].Dropout(0.5, NewRNG(6), true).Square() }},
	})
}

func TestDropoutPanics(t *testing.T) {
	x := Ones(3)
	cases := []struct {
		want string
		f    func()
	}{
		{"dropout: probability 1 is outside [0, 1)", func() { x.Dropout(1, NewRNG(1), true) }},
		{"dropout: probability -0.1 is outside [0, 1)", func() { x.Dropout(-0.1, NewRNG(1), true) }},
		{"dropout: probability NaN is outside [0, 1)", func() { x.Dropout(float32(math.NaN()), NewRNG(1), true) }},
		{"dropout: probability 1.5 is outside [0, 1)", func() { x.Dropout(1.5, nil, false) }},
		{"dropout: no random source for training-mode dropout of (3)", func() { x.Dropout(0.5, nil, true) }},
	}
	for _, c := range cases {
		expectPanic(t, c.want, c.f)
	}
}
