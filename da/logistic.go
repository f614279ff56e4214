package da

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/graftml/graft/tensor"
)

// rowsF64 is an (n, d) float64 matrix in row-major order.
type rowsF64 struct {
	n, d int
	v    []float64
}

func (r rowsF64) row(i int) []float64 { return r.v[i*r.d : (i+1)*r.d] }

// matrixOf checks that x is a non-empty (N, D) tensor with finite values and
// returns it in float64.
func matrixOf(fn, name string, x *tensor.Tensor) (rowsF64, error) {
	if x == nil {
		return rowsF64{}, fmt.Errorf("%s: %s is nil", fn, name)
	}
	if x.Dims() != 2 {
		return rowsF64{}, fmt.Errorf("%s: %s is %s, want an (N, D) matrix", fn, name, tensor.FormatShape(x.Shape()))
	}
	if x.Dim(0) == 0 {
		return rowsF64{}, fmt.Errorf("%s: %s is empty (0 rows)", fn, name)
	}
	v := x.Float64s()
	for i, a := range v {
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return rowsF64{}, fmt.Errorf("%s: %s[%d,%d] is %v", fn, name, i/x.Dim(1), i%x.Dim(1), a)
		}
	}
	return rowsF64{x.Dim(0), x.Dim(1), v}, nil
}

// matrixPair is matrixOf on a source and a target matrix of the same width.
func matrixPair(fn string, xs, xt *tensor.Tensor) (s, t rowsF64, err error) {
	if s, err = matrixOf(fn, "xs", xs); err != nil {
		return
	}
	if t, err = matrixOf(fn, "xt", xt); err != nil {
		return
	}
	if s.d != t.d {
		err = fmt.Errorf("%s: source width %d (xs %s) differs from target width %d (xt %s)", fn, s.d,
			tensor.FormatShape(xs.Shape()), t.d, tensor.FormatShape(xt.Shape()))
	}
	return
}

// stack returns the rows of a then those of b.
func stack(a, b rowsF64) rowsF64 {
	v := make([]float64, 0, len(a.v)+len(b.v))
	return rowsF64{a.n + b.n, a.d, append(append(v, a.v...), b.v...)}
}

// quadratic returns the rows extended by every product x_j·x_k, j ≤ k.
func quadratic(r rowsF64) rowsF64 {
	d2 := r.d + r.d*(r.d+1)/2
	out := rowsF64{r.n, d2, make([]float64, 0, r.n*d2)}
	for i := range r.n {
		x := r.row(i)
		out.v = append(out.v, x...)
		for j := range x {
			for k := j; k < len(x); k++ {
				out.v = append(out.v, x[j]*x[k])
			}
		}
	}
	return out
}

// logistic is a binary logistic regression on standardised inputs.
type logistic struct {
	mean, scale []float64
	w           []float64 // d weights then the bias
	loss        float64   // final training objective
}

// fitLogistic fits p(y=1|x) = σ(wᵀz + b), z the standardised x, by L-BFGS
// on the mean log-loss + l2/2·‖w‖².
func fitLogistic(x rowsF64, y []bool, l2 float64) (*logistic, error) {
	m := &logistic{mean: make([]float64, x.d), scale: make([]float64, x.d)}
	for j := range x.d {
		var s, s2 float64
		for i := range x.n {
			s += x.v[i*x.d+j]
		}
		mu := s / float64(x.n)
		for i := range x.n {
			s2 += (x.v[i*x.d+j] - mu) * (x.v[i*x.d+j] - mu)
		}
		sd := math.Sqrt(s2 / float64(x.n))
		if sd == 0 {
			sd = 1
		}
		m.mean[j], m.scale[j] = mu, 1/sd
	}
	z := make([]float64, len(x.v))
	for i := range x.n {
		for j := range x.d {
			z[i*x.d+j] = (x.v[i*x.d+j] - m.mean[j]) * m.scale[j]
		}
	}
	w, loss, err := newtonLogistic(rowsF64{x.n, x.d, z}, y, l2)
	if err != nil {
		return nil, err
	}
	m.w, m.loss = w, loss
	return m, nil
}

// newtonLogistic minimises the mean log-loss + l2/2·‖w‖² (bias not
// penalised) by damped Newton steps, returning the d weights and the bias,
// and the objective.
func newtonLogistic(z rowsF64, y []bool, l2 float64) ([]float64, float64, error) {
	d, n := z.d, float64(z.n)
	p := d + 1
	objective := func(w []float64) float64 {
		var f float64
		for i := range z.n {
			a := w[d]
			for j, v := range z.row(i) {
				a += w[j] * v
			}
			f += softplus(a)
			if y[i] {
				f -= a
			}
		}
		var reg float64
		for j := range d {
			reg += w[j] * w[j]
		}
		return f/n + l2/2*reg
	}
	w := make([]float64, p)
	f := objective(w)
	g := make([]float64, p)
	h := mat.NewSymDense(p, nil)
	xi := make([]float64, p)
	for range 100 {
		for j := range g {
			g[j] = 0
		}
		h.Zero()
		raw := h.RawSymmetric()
		hd, st := raw.Data, raw.Stride
		for i := range z.n {
			copy(xi, z.row(i))
			xi[d] = 1
			var a float64
			for j, v := range xi {
				a += w[j] * v
			}
			q := sigmoid(a)
			r := q
			if y[i] {
				r -= 1
			}
			c := q * (1 - q)
			for j, v := range xi {
				g[j] += r * v
				cv := c * v
				row := hd[j*st:]
				for k := j; k < p; k++ {
					row[k] += cv * xi[k]
				}
			}
		}
		var gnorm float64
		for j := range p {
			g[j] /= n
			if j < d {
				g[j] += l2 * w[j]
			}
			gnorm = math.Max(gnorm, math.Abs(g[j]))
			for k := j; k < p; k++ {
				hd[j*st+k] /= n
			}
			if j < d {
				hd[j*st+j] += l2
			} else {
				hd[j*st+j] += 1e-12
			}
		}
		if gnorm < 1e-10 {
			break
		}
		var ch mat.Cholesky
		if !ch.Factorize(h) {
			return nil, 0, fmt.Errorf("logistic regression: the Hessian is not positive definite")
		}
		var step mat.VecDense
		if err := ch.SolveVecTo(&step, mat.NewVecDense(p, g)); err != nil {
			return nil, 0, fmt.Errorf("logistic regression: %v", err)
		}
		t := 1.0
		trial := make([]float64, p)
		improved := false
		for range 40 {
			for j := range p {
				trial[j] = w[j] - t*step.AtVec(j)
			}
			if ft := objective(trial); ft <= f {
				w, f, improved = trial, ft, true
				break
			}
			t /= 2
		}
		if !improved {
			break
		}
	}
	return w, f, nil
}

// logit returns wᵀz + b for the raw input x.
func (m *logistic) logit(x []float64) float64 {
	a := m.w[len(x)]
	for j, v := range x {
		a += m.w[j] * (v - m.mean[j]) * m.scale[j]
	}
	return a
}

func sigmoid(a float64) float64 { return 1 / (1 + math.Exp(-a)) }

// softplus returns log(1 + eᵃ) without overflow.
func softplus(a float64) float64 {
	if a > 30 {
		return a
	}
	return math.Log1p(math.Exp(a))
}

// sqDist returns ‖a − b‖².
func sqDist(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += (v - b[i]) * (v - b[i])
	}
	return s
}

// medianSqDist returns the median squared distance between distinct rows
// of r (1 when all rows coincide).
func medianSqDist(r rowsF64) float64 {
	vals := make([]float64, 0, r.n*(r.n-1)/2)
	for i := range r.n {
		for j := i + 1; j < r.n; j++ {
			vals = append(vals, sqDist(r.row(i), r.row(j)))
		}
	}
	if len(vals) == 0 {
		return 1
	}
	sort.Float64s(vals)
	m := vals[len(vals)/2]
	if len(vals)%2 == 0 {
		m = (vals[len(vals)/2-1] + m) / 2
	}
	if !(m > 0) {
		return 1
	}
	return m
}
