package project

import (
	"context"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

const (
	// perplexityTol is how close (in nats) the entropy of each conditional
	// distribution must come to log(perplexity); scikit-learn's tolerance.
	perplexityTol = 1e-5
	// perplexitySteps bounds the bisection for each point's precision.
	perplexitySteps = 100
	// machineEpsilon is the floor scikit-learn puts under joint and
	// embedding probabilities (float64 machine epsilon).
	machineEpsilon = 0x1p-52
	// distanceBlockBytes bounds the memory of one block of rows of the
	// distance matrix while neighbours are searched.
	distanceBlockBytes = 32 << 20
)

// sqNorms returns the squared Euclidean norm of each row of the n×d data.
func sqNorms(x []float64, n, d int) []float64 {
	sq := make([]float64, n)
	for i := range n {
		var s float64
		for _, v := range x[i*d : (i+1)*d] {
			s += v * v
		}
		sq[i] = s
	}
	return sq
}

// sqDistRows fills out, a (hi−lo)×n row-major block, with the squared
// Euclidean distances from rows lo..hi−1 to every row of the n×d data x,
// through the Gram matrix (‖a‖² + ‖b‖² − 2a·b, clamped at 0); the distance of
// a row to itself is 0. sq holds the rows' squared norms.
func sqDistRows(x, sq []float64, n, d, lo, hi int, out []float64) {
	a := blas64.General{Rows: hi - lo, Cols: d, Stride: d, Data: x[lo*d : hi*d]}
	b := blas64.General{Rows: n, Cols: d, Stride: d, Data: x}
	c := blas64.General{Rows: hi - lo, Cols: n, Stride: n, Data: out[:(hi-lo)*n]}
	blas64.Gemm(blas.NoTrans, blas.Trans, -2, a, b, 0, c)
	parallelRows(hi-lo, n, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			i := lo + r
			row := out[r*n : (r+1)*n]
			for j := range row {
				row[j] = max(row[j]+sq[i]+sq[j], 0)
			}
			row[i] = 0
		}
	})
}

// conditionalRow fills p with the conditional probabilities p_j|i ∝
// exp(−β·dist_j) of one point's neighbours, given their squared distances,
// with the precision β found by bisection so that the distribution's entropy
// is logPerp (natural log of the perplexity), as van der Maaten's and
// scikit-learn's implementations do. Distances are shifted by their minimum
// first, which leaves p unchanged and keeps exp from underflowing.
func conditionalRow(dist, p []float64, logPerp float64) {
	dmin := slices.Min(dist)
	beta, lo, hi := 1.0, math.Inf(-1), math.Inf(1)
	for range perplexitySteps {
		var sum float64
		for j, dj := range dist {
			p[j] = math.Exp(-(dj - dmin) * beta)
			sum += p[j]
		}
		var mean float64
		for j, dj := range dist {
			p[j] /= sum
			mean += (dj - dmin) * p[j]
		}
		diff := math.Log(sum) + beta*mean - logPerp
		if math.Abs(diff) <= perplexityTol {
			break
		}
		if diff > 0 { // too flat: sharpen
			lo = beta
			if math.IsInf(hi, 1) {
				beta *= 2
			} else {
				beta = (beta + hi) / 2
			}
		} else {
			hi = beta
			if math.IsInf(lo, -1) {
				beta /= 2
			} else {
				beta = (beta + lo) / 2
			}
		}
	}
}

// jointDense returns the n×n symmetric joint probabilities of the exact
// method: p_ij = (p_j|i + p_i|j) / Σ, floored at machineEpsilon off the
// diagonal, with a zero diagonal.
func jointDense(ctx context.Context, x []float64, n, d int, perplexity float64) ([]float64, error) {
	p := make([]float64, n*n)
	sqDistRows(x, sqNorms(x, n, d), n, d, 0, n, p)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logPerp := math.Log(perplexity)
	parallelRows(n, n*20, func(lo, hi int) {
		dist := make([]float64, n-1)
		cond := make([]float64, n-1)
		for i := lo; i < hi; i++ {
			row := p[i*n : (i+1)*n]
			copy(dist, row[:i])
			copy(dist[i:], row[i+1:])
			conditionalRow(dist, cond, logPerp)
			copy(row[:i], cond[:i])
			row[i] = 0
			copy(row[i+1:], cond[i:])
		}
	})
	var total float64
	for _, v := range p {
		total += v
	}
	total = max(2*total, machineEpsilon)
	for i := range n {
		for j := i + 1; j < n; j++ {
			v := max((p[i*n+j]+p[j*n+i])/total, machineEpsilon)
			p[i*n+j], p[j*n+i] = v, v
		}
	}
	return p, ctx.Err()
}

// sparseP is a sparse symmetric matrix of joint probabilities in compressed
// rows: row i's entries are col[rowPtr[i]:rowPtr[i+1]] (ascending) with
// values val[…].
type sparseP struct {
	rowPtr []int
	col    []int32
	val    []float64
}

// jointKNN returns the joint probabilities of the Barnes-Hut method: the
// conditional probabilities of each point over its k nearest neighbours,
// symmetrised and normalised to sum to 1, as scikit-learn does.
func jointKNN(ctx context.Context, x []float64, n, d, k int, perplexity float64) (sparseP, error) {
	idx, dist, err := nearest(ctx, x, n, d, k)
	if err != nil {
		return sparseP{}, err
	}
	logPerp := math.Log(perplexity)
	cond := make([]float64, n*k)
	parallelRows(n, k*20, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			conditionalRow(dist[i*k:(i+1)*k], cond[i*k:(i+1)*k], logPerp)
		}
	})
	// Each conditional entry goes to (i, j) and (j, i); sum the duplicates.
	count := make([]int, n+1)
	for i := range n {
		for _, j := range idx[i*k : (i+1)*k] {
			count[i+1]++
			count[j+1]++
		}
	}
	for i := range n {
		count[i+1] += count[i]
	}
	type entry struct {
		col int32
		val float64
	}
	entries := make([]entry, count[n])
	fill := slices.Clone(count[:n])
	for i := range n {
		for t, j := range idx[i*k : (i+1)*k] {
			v := cond[i*k+t]
			entries[fill[i]] = entry{j, v}
			fill[i]++
			entries[fill[j]] = entry{int32(i), v}
			fill[j]++
		}
	}
	sp := sparseP{rowPtr: make([]int, n+1)}
	for i := range n {
		row := entries[count[i]:count[i+1]]
		slices.SortFunc(row, func(a, b entry) int { return int(a.col) - int(b.col) })
		for t, e := range row {
			if t > 0 && row[t-1].col == e.col {
				sp.val[len(sp.val)-1] += e.val
				continue
			}
			sp.col = append(sp.col, e.col)
			sp.val = append(sp.val, e.val)
		}
		sp.rowPtr[i+1] = len(sp.col)
	}
	var total float64
	for _, v := range sp.val {
		total += v
	}
	total = max(total, machineEpsilon)
	for t := range sp.val {
		sp.val[t] /= total
	}
	return sp, nil
}

// nearest returns, for each of the n rows of x, the indices of its k
// nearest other rows and their squared Euclidean distances (n×k each,
// row-major), by brute force: blocks of the distance matrix through the Gram
// matrix, a bounded heap per row (ties go to the lower index), and the
// chosen distances recomputed directly.
func nearest(ctx context.Context, x []float64, n, d, k int) ([]int32, []float64, error) {
	sq := sqNorms(x, n, d)
	idx := make([]int32, n*k)
	dist := make([]float64, n*k)
	block := max(1, min(n, distanceBlockBytes/(8*n)))
	buf := make([]float64, block*n)
	for lo := 0; lo < n; lo += block {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		hi := min(lo+block, n)
		sqDistRows(x, sq, n, d, lo, hi, buf)
		parallelRows(hi-lo, n, func(r0, r1 int) {
			h := make(neighbourHeap, 0, k)
			for r := r0; r < r1; r++ {
				i := lo + r
				h = h[:0]
				for j, dj := range buf[r*n : (r+1)*n] {
					if j != i {
						h.offer(neighbour{dj, int32(j)}, k)
					}
				}
				xi := x[i*d : (i+1)*d]
				for t, nb := range h {
					xj := x[int(nb.j)*d : (int(nb.j)+1)*d]
					var s float64
					for c, v := range xi {
						e := v - xj[c]
						s += e * e
					}
					idx[i*k+t], dist[i*k+t] = nb.j, s
				}
			}
		})
	}
	return idx, dist, nil
}

// neighbour is a candidate neighbour: squared distance and index.
type neighbour struct {
	d float64
	j int32
}

// less orders neighbours by distance, then index.
func (a neighbour) less(b neighbour) bool { return a.d < b.d || (a.d == b.d && a.j < b.j) }

// neighbourHeap is a max-heap of the k best neighbours seen so far.
type neighbourHeap []neighbour

// offer adds nb if the heap has fewer than k entries or nb beats the worst.
func (h *neighbourHeap) offer(nb neighbour, k int) {
	s := *h
	if len(s) < k {
		s = append(s, nb)
		for c := len(s) - 1; c > 0; { // sift up
			p := (c - 1) / 2
			if !s[p].less(s[c]) {
				break
			}
			s[p], s[c] = s[c], s[p]
			c = p
		}
		*h = s
		return
	}
	if !nb.less(s[0]) {
		return
	}
	s[0] = nb
	for p := 0; ; { // sift down
		c := 2*p + 1
		if c >= len(s) {
			break
		}
		if c+1 < len(s) && s[c].less(s[c+1]) {
			c++
		}
		if !s[p].less(s[c]) {
			break
		}
		s[p], s[c] = s[c], s[p]
		p = c
	}
}
