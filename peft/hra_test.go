package peft

import (
	"math"
	"testing"

	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

func hraModel(t *testing.T, r int, random bool) (*Model, *HRALayer, *HRALayer) {
	t.Helper()
	c := NewHRAConfig(r, "up", "down")
	c.RandomInit = random
	m, err := Inject(newRagged(1), "", c)
	if err != nil {
		t.Fatal(err)
	}
	mod := m.Module().(*ragged)
	return m, mod.Up.(*HRALayer), mod.Down.(*HRALayer)
}

// TestHRAStartsAsIdentity: an even r repeats each vector, so the
// reflections cancel and the model computes as the base model.
func TestHRAStartsAsIdentity(t *testing.T) {
	m, up, _ := hraModel(t, 4, false)
	u := up.U["default"]
	for i := 0; i < 4; i++ {
		if u.At(i, 0) != u.At(i, 1) || u.At(i, 2) != u.At(i, 3) || u.At(i, 0) == u.At(i, 2) {
			t.Fatalf("row %d of hra_u is %v: want pairs of equal columns", i, u.Data()[i*4:i*4+4])
		}
	}
	x := raggedInput()
	got := m.Module().(nn.Layer).Forward(x)
	var want *tensor.Tensor
	if err := m.WithDisabled(func() { want = m.Module().(nn.Layer).Forward(x) }); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(got, want); d > 1e-6 {
		t.Fatalf("symmetric init changes the output by %g", d)
	}
	// Trainable: in·r per layer (4·4 + 5·4).
	if got, want := trainable(m), 4*4+5*4; got != want {
		t.Fatalf("trainable %d, want %d", got, want)
	}
}

// householderByHand returns Π_i (I − 2 u_i u_iᵀ/‖u_i‖²) for U (in, r).
func householderByHand(u *tensor.Tensor) []float64 {
	in, r := u.Dim(0), u.Dim(1)
	h := make([]float64, in*in)
	for i := 0; i < in; i++ {
		h[i*in+i] = 1
	}
	for k := 0; k < r; k++ {
		n2 := 0.0
		for i := 0; i < in; i++ {
			n2 += float64(u.At(i, k)) * float64(u.At(i, k))
		}
		p := make([]float64, in*in) // I − 2uuᵀ/‖u‖²
		for i := 0; i < in; i++ {
			for j := 0; j < in; j++ {
				p[i*in+j] = -2 * float64(u.At(i, k)) * float64(u.At(j, k)) / n2
			}
			p[i*in+i]++
		}
		h = matmul64(h, p, in, in, in)
	}
	return h
}

func matmul64(a, b []float64, n, k, m int) []float64 {
	c := make([]float64, n*m)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			for l := 0; l < k; l++ {
				c[i*m+j] += a[i*k+l] * b[l*m+j]
			}
		}
	}
	return c
}

func TestHRAForwardByHand(t *testing.T) {
	_, up, down := hraModel(t, 3, true)
	x := tensor.Randn(tensor.NewRNG(5), 2, 4)
	for _, c := range []struct {
		l       *HRALayer
		x       *tensor.Tensor
		in, out int
		bias    *tensor.Tensor
	}{
		{up, x, 4, 5, up.Base.(*nn.Linear).Bias},
		{down, tensor.Randn(tensor.NewRNG(6), 2, 5), 5, 3, down.Base.(*gpt2.Conv1D).Bias},
	} {
		h := householderByHand(c.l.U["default"])
		w := matmul64(c.l.aff.weightOutIn(), h, c.out, c.in, c.in)
		closeTo(t, "HRA forward", c.l.Forward(c.x).Data(), affineByHand(c.x, w, c.bias, c.in, c.out), 1e-5)
		ht, err := c.l.Reflection("default")
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "H", ht.Data(), h, 1e-6)
		// H is orthogonal: HᵀH = I.
		hth := matmul64(transpose64(h, c.in, c.in), h, c.in, c.in, c.in)
		for i := 0; i < c.in; i++ {
			for j := 0; j < c.in; j++ {
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(hth[i*c.in+j]-want) > 1e-9 {
					t.Fatalf("HᵀH[%d,%d] = %g", i, j, hth[i*c.in+j])
				}
			}
		}
	}
}

func transpose64(a []float64, n, m int) []float64 {
	t := make([]float64, n*m)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			t[j*n+i] = a[i*m+j]
		}
	}
	return t
}

func TestHRAGradients(t *testing.T) {
	_, up, down := hraModel(t, 3, true)
	x := tensor.Randn(tensor.NewRNG(6), 2, 4)
	f := func(in ...*tensor.Tensor) *tensor.Tensor {
		up.U["default"], down.U["default"] = in[0], in[1]
		return down.Forward(up.Forward(x).Tanh())
	}
	if err := tensor.GradCheck(f, []*tensor.Tensor{up.U["default"], down.U["default"]}, tensor.GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestHRAMergeAndSave(t *testing.T) {
	m, _, _ := hraModel(t, 3, true)
	x := raggedInput()
	checkConfig(t, checkRoundTrip(t, m, newRagged(1), x), m.Method("default"))
	checkMerge(t, m, x)
	// A second adapter merged on top of the first: unmerging undoes both.
	c := NewHRAConfig(2, "up", "down")
	c.RandomInit, c.Seed = true, 9
	if err := m.AddAdapter("second", c); err != nil {
		t.Fatal(err)
	}
	if err := m.SetActive("default", "second"); err != nil {
		t.Fatal(err)
	}
	checkMerge(t, m, x)
}

// TestHRAOrthogonality: with the symmetric initialisation and r = 2 the two
// unit vectors of a layer are equal, so ÛᵀÛ − I = [[0 1] [1 0]] and each
// layer adds 2: 2 layers, λ = 0.5 give 2.
func TestHRAOrthogonality(t *testing.T) {
	m, up, down := hraModel(t, 2, false)
	p, err := HRAOrthogonality(m, "default", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(p.Item())-2) > 1e-5 {
		t.Fatalf("penalty %g, want 2", p.Item())
	}
	if _, err := HRAOrthogonality(m, "nope", 1); err == nil {
		t.Fatal("a penalty for a missing adapter")
	}
	nn.NormalInit(up.U["default"], tensor.NewRNG(3), 0, 1)
	f := func(in ...*tensor.Tensor) *tensor.Tensor {
		up.U["default"], down.U["default"] = in[0], in[1]
		p, _ := HRAOrthogonality(m, "default", 0.3)
		return p
	}
	if err := tensor.GradCheck(f, []*tensor.Tensor{up.U["default"], down.U["default"]}, tensor.GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
}
