package project

import "math"

// The gradient of the t-SNE cost KL(P‖Q) with respect to the embedding y,
// with Student-t (one degree of freedom) similarities
// q_ij = w_ij / Z, w_ij = 1/(1 + ‖y_i − y_j‖²), Z = Σ_{k≠l} w_kl, is
//
//	∂C/∂y_i = 4 Σ_j (p_ij − q_ij) w_ij (y_i − y_j)
//	        = 4 (Σ_j p_ij w_ij (y_i − y_j)  −  Σ_j w_ij² (y_i − y_j) / Z),
//
// an attractive and a repulsive part. Both methods compute, per row i, the
// attractive sum, the unnormalised repulsive sum and Σ_j w_ij; Z is then the
// sum of the rows' sums in row order, so results do not depend on how rows
// were split across goroutines.

// gradWork holds the per-row buffers of a gradient computation.
type gradWork struct {
	rep  []float64 // n×dims unnormalised repulsive sums
	rowZ []float64 // n
}

func newGradWork(n, dims int) *gradWork {
	return &gradWork{rep: make([]float64, n*dims), rowZ: make([]float64, n)}
}

// combine writes grad = 4(exag·attr − rep/Z), where grad holds attr on
// entry, and returns Z.
func (w *gradWork) combine(grad []float64, exag float64) float64 {
	var z float64
	for _, v := range w.rowZ {
		z += v
	}
	z = max(z, machineEpsilon)
	for t := range grad {
		grad[t] = 4 * (exag*grad[t] - w.rep[t]/z)
	}
	return z
}

// exactGradient writes the exact gradient for the dense n×n joint
// probabilities p, multiplied by exag (early exaggeration), into grad and
// returns Z.
func exactGradient(p, y []float64, n, dims int, exag float64, grad []float64, w *gradWork) float64 {
	parallelRows(n, n*dims, func(lo, hi int) {
		diff := make([]float64, dims)
		for i := lo; i < hi; i++ {
			yi := y[i*dims : (i+1)*dims]
			attr := grad[i*dims : (i+1)*dims]
			rep := w.rep[i*dims : (i+1)*dims]
			clear(attr)
			clear(rep)
			pi := p[i*n : (i+1)*n]
			var z float64
			if dims == 2 {
				// Columns before and after i, so the loop has no branch.
				z0, a0, a1, r0, r1 := pairs2(yi[0], yi[1], y[:2*i], pi[:i])
				z1, b0, b1, s0, s1 := pairs2(yi[0], yi[1], y[2*i+2:], pi[i+1:])
				z = z0 + z1
				attr[0], attr[1], rep[0], rep[1] = a0+b0, a1+b1, r0+s0, r1+s1
			} else {
				for j := range n {
					if j == i {
						continue
					}
					yj := y[j*dims : (j+1)*dims]
					var d2 float64
					for c := range dims {
						diff[c] = yi[c] - yj[c]
						d2 += diff[c] * diff[c]
					}
					q := 1 / (1 + d2)
					z += q
					pq, qq := pi[j]*q, q*q
					for c := range dims {
						attr[c] += pq * diff[c]
						rep[c] += qq * diff[c]
					}
				}
			}
			w.rowZ[i] = z
		}
	})
	return w.combine(grad, exag)
}

// pairs2 returns, for a 2-D point (y0, y1) against the points ys (x, y
// interleaved) with joint probabilities ps, Σ w, Σ p·w·d and Σ w²·d, where
// d is the difference to each point and w = 1/(1 + ‖d‖²).
func pairs2(y0, y1 float64, ys, ps []float64) (z, a0, a1, r0, r1 float64) {
	ys = ys[:2*len(ps)]
	for j, pj := range ps {
		d0, d1 := y0-ys[2*j], y1-ys[2*j+1]
		q := 1 / (1 + d0*d0 + d1*d1)
		z += q
		pq := pj * q
		a0 += pq * d0
		a1 += pq * d1
		qq := q * q
		r0 += qq * d0
		r1 += qq * d1
	}
	return z, a0, a1, r0, r1
}

// sqDist returns the squared distance between rows i and j of the embedding.
func sqDist(y []float64, dims, i, j int) float64 {
	var s float64
	for c := range dims {
		e := y[i*dims+c] - y[j*dims+c]
		s += e * e
	}
	return s
}

// exactKL returns KL(P‖Q) = Σ_{i≠j} p_ij log(p_ij / q_ij) for dense p,
// with q floored at machineEpsilon as scikit-learn does.
func exactKL(p, y []float64, n, dims int) float64 {
	rowZ := make([]float64, n)
	parallelRows(n, n*dims, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var z float64
			for j := range n {
				if j != i {
					z += 1 / (1 + sqDist(y, dims, i, j))
				}
			}
			rowZ[i] = z
		}
	})
	var z float64
	for _, v := range rowZ {
		z += v
	}
	rowKL := rowZ // reuse
	parallelRows(n, n*dims, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var kl float64
			for j := range n {
				if j == i {
					continue
				}
				pij := p[i*n+j]
				q := max(1/(1+sqDist(y, dims, i, j))/z, machineEpsilon)
				kl += pij * math.Log(max(pij, machineEpsilon)/q)
			}
			rowKL[i] = kl
		}
	})
	var kl float64
	for _, v := range rowKL {
		kl += v
	}
	return kl
}

// sparseKL returns KL(P‖Q) over the stored entries of the sparse p, with
// the normalisation z of Q (as estimated by the Barnes-Hut tree).
func sparseKL(p sparseP, y []float64, n, dims int, z float64) float64 {
	var kl float64
	for i := range n {
		for t := p.rowPtr[i]; t < p.rowPtr[i+1]; t++ {
			pij := p.val[t]
			q := max(1/(1+sqDist(y, dims, i, int(p.col[t])))/z, machineEpsilon)
			kl += pij * math.Log(max(pij, machineEpsilon)/q)
		}
	}
	return kl
}
