package ot

import (
	"fmt"
	"math"
	"strings"

	"github.com/graftml/graft/tensor"
)

// Matrix is a dense row-major float64 matrix: entry (i, j) is
// Data[i*Cols+j]. Cost matrices, transport plans and sample matrices
// (one sample per row) are Matrix values.
type Matrix struct {
	Rows, Cols int
	Data       []float64
}

// NewMatrix returns a rows×cols matrix holding data (not copied); nil data
// gives zeros.
func NewMatrix(rows, cols int, data []float64) (*Matrix, error) {
	if rows < 0 || cols < 0 {
		return nil, fmt.Errorf("ot: matrix shape %d×%d is negative", rows, cols)
	}
	if data == nil {
		data = make([]float64, rows*cols)
	}
	if len(data) != rows*cols {
		return nil, fmt.Errorf("ot: matrix %d×%d needs %d values, got %d", rows, cols, rows*cols, len(data))
	}
	return &Matrix{Rows: rows, Cols: cols, Data: data}, nil
}

// Zeros returns a rows×cols matrix of zeros.
func Zeros(rows, cols int) *Matrix {
	return &Matrix{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
}

// FromRows returns the matrix whose rows are rows; every row must have the
// same length.
func FromRows(rows [][]float64) (*Matrix, error) {
	if len(rows) == 0 {
		return Zeros(0, 0), nil
	}
	m := Zeros(len(rows), len(rows[0]))
	for i, r := range rows {
		if len(r) != m.Cols {
			return nil, fmt.Errorf("ot: row %d has %d values, row 0 has %d", i, len(r), m.Cols)
		}
		copy(m.Data[i*m.Cols:], r)
	}
	return m, nil
}

// FromTensor converts a 2-D tensor (N, D) — features, points — to a Matrix.
func FromTensor(t *tensor.Tensor) (*Matrix, error) {
	if t == nil {
		return nil, fmt.Errorf("ot: tensor is nil")
	}
	s := t.Shape()
	if len(s) != 2 {
		return nil, fmt.Errorf("ot: want a 2-D tensor (samples, features), got shape %s", tensor.FormatShape(s))
	}
	m := Zeros(s[0], s[1])
	for i, v := range t.Data() {
		m.Data[i] = float64(v)
	}
	return m, nil
}

// Tensor converts m to a float32 tensor of shape (Rows, Cols), e.g. for
// viz.Heatmap or as an input to a model.
func (m *Matrix) Tensor() *tensor.Tensor {
	return tensor.FromFloat64(m.Data, m.Rows, m.Cols)
}

// At returns entry (i, j).
func (m *Matrix) At(i, j int) float64 { return m.Data[i*m.Cols+j] }

// Set sets entry (i, j) to v.
func (m *Matrix) Set(i, j int, v float64) { m.Data[i*m.Cols+j] = v }

// Row returns row i, sharing m's storage.
func (m *Matrix) Row(i int) []float64 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// Clone returns a copy of m.
func (m *Matrix) Clone() *Matrix {
	return &Matrix{Rows: m.Rows, Cols: m.Cols, Data: append([]float64(nil), m.Data...)}
}

// Sum returns the sum of all entries.
func (m *Matrix) Sum() float64 {
	s := 0.0
	for _, v := range m.Data {
		s += v
	}
	return s
}

// RowSums returns the sums of m's rows (a plan's first marginal).
func (m *Matrix) RowSums() []float64 {
	out := make([]float64, m.Rows)
	for i := range out {
		for _, v := range m.Row(i) {
			out[i] += v
		}
	}
	return out
}

// ColSums returns the sums of m's columns (a plan's second marginal).
func (m *Matrix) ColSums() []float64 {
	out := make([]float64, m.Cols)
	for i := 0; i < m.Rows; i++ {
		for j, v := range m.Row(i) {
			out[j] += v
		}
	}
	return out
}

// Dot returns ⟨m, o⟩ = Σ m_ij·o_ij, e.g. the cost ⟨P, M⟩ of a plan.
func (m *Matrix) Dot(o *Matrix) float64 {
	if m.Rows != o.Rows || m.Cols != o.Cols {
		panic(fmt.Sprintf("ot: dot of %d×%d and %d×%d matrices", m.Rows, m.Cols, o.Rows, o.Cols))
	}
	s := 0.0
	for i, v := range m.Data {
		s += v * o.Data[i]
	}
	return s
}

// Max returns the largest entry (−Inf for an empty matrix).
func (m *Matrix) Max() float64 {
	mx := math.Inf(-1)
	for _, v := range m.Data {
		if v > mx {
			mx = v
		} else if v != v {
			return v // NaN
		}
	}
	return mx
}

// Scale returns a copy of m with every entry multiplied by s.
func (m *Matrix) Scale(s float64) *Matrix {
	c := m.Clone()
	for i := range c.Data {
		c.Data[i] *= s
	}
	return c
}

// String prints small matrices whole and large ones by their shape.
func (m *Matrix) String() string {
	if m.Rows*m.Cols > 100 {
		return fmt.Sprintf("ot.Matrix %d×%d", m.Rows, m.Cols)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ot.Matrix %d×%d\n", m.Rows, m.Cols)
	for i := 0; i < m.Rows; i++ {
		for j, v := range m.Row(i) {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%9.4g", v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Uniform returns the uniform distribution on n points (each weight 1/n).
func Uniform(n int) []float64 {
	u := make([]float64, n)
	for i := range u {
		u[i] = 1 / float64(n)
	}
	return u
}

// Metric names a ground cost between samples for Dist.
type Metric string

// The ground costs Dist computes.
const (
	SqEuclidean Metric = "sqeuclidean" // ‖x − y‖², POT's default
	Euclidean   Metric = "euclidean"   // ‖x − y‖
	Cityblock   Metric = "cityblock"   // Σ |x_k − y_k|
)

// Dist returns the cost matrix between the rows of xs (n×d) and xt (m×d):
// entry (i, j) is metric(xs_i, xt_j). "" means SqEuclidean.
func Dist(xs, xt *Matrix, metric Metric) (*Matrix, error) {
	if xs == nil || xt == nil {
		return nil, fmt.Errorf("ot: dist: nil sample matrix")
	}
	if xs.Cols != xt.Cols {
		return nil, fmt.Errorf("ot: dist: source samples have %d features, target samples %d", xs.Cols, xt.Cols)
	}
	if metric == "" {
		metric = SqEuclidean
	}
	m := Zeros(xs.Rows, xt.Rows)
	for i := 0; i < xs.Rows; i++ {
		a := xs.Row(i)
		out := m.Row(i)
		for j := 0; j < xt.Rows; j++ {
			b := xt.Row(j)
			s := 0.0
			switch metric {
			case SqEuclidean, Euclidean:
				for k, v := range a {
					d := v - b[k]
					s += d * d
				}
				if metric == Euclidean {
					s = math.Sqrt(s)
				}
			case Cityblock:
				for k, v := range a {
					s += math.Abs(v - b[k])
				}
			default:
				return nil, fmt.Errorf("ot: dist: unknown metric %q (want %q, %q or %q)", metric, SqEuclidean, Euclidean, Cityblock)
			}
			out[j] = s
		}
	}
	return m, nil
}
