package tensor

import (
	"fmt"

	"github.com/graftml/graft/tensor/gemm"
)

// MatMul returns the matrix product of t and u with NumPy semantics: 2-D × 2-D;
// 1-D operands are promoted to a row (left) or column (right) vector and the
// added axis removed; operands with more than two dimensions are batches of
// matrices whose leading dimensions broadcast.
func (t *Tensor) MatMul(u *Tensor) *Tensor { return t.MatMulT(u, false, false) }

// MatMulT is MatMul with either operand's last two axes transposed, without
// copying (e.g. q.MatMulT(k, false, true) is q·kᵀ).
func (t *Tensor) MatMulT(u *Tensor, transT, transU bool) *Tensor {
	a, b := t, u
	if len(a.shape) == 0 || len(b.shape) == 0 {
		panic(fmt.Sprintf("matmul: %s x %s: both operands need at least one dimension", FormatShape(a.shape), FormatShape(b.shape)))
	}
	squeezeRow, squeezeCol := false, false
	if len(a.shape) == 1 {
		a, transT, squeezeRow = a.Reshape(1, a.shape[0]), false, true
	}
	if len(b.shape) == 1 {
		b, transU, squeezeCol = b.Reshape(b.shape[0], 1), false, true
	}
	out := batchedMatMul(a, b, transT, transU)
	if squeezeRow {
		out = out.Squeeze(-2)
	}
	if squeezeCol {
		out = out.Squeeze(-1)
	}
	return out
}

// matDims returns (rows, cols) of the last two axes of shape after optional transposition.
func matDims(shape []int, trans bool) (int, int) {
	r, c := shape[len(shape)-2], shape[len(shape)-1]
	if trans {
		return c, r
	}
	return r, c
}

func batchedMatMul(a, b *Tensor, ta, tb bool) *Tensor {
	m, k := matDims(a.shape, ta)
	k2, n := matDims(b.shape, tb)
	if k != k2 {
		panic(fmt.Sprintf("matmul: %s x %s: inner dimensions differ%s", FormatShape(a.shape), FormatShape(b.shape), transNote(ta, tb)))
	}
	aBatch, bBatch := a.shape[:len(a.shape)-2], b.shape[:len(b.shape)-2]
	// A batch of matrices times one matrix is one tall GEMM.
	if len(bBatch) == 0 && !ta {
		rows := 1
		for _, d := range a.shape[:len(a.shape)-1] {
			rows *= d
		}
		shape := append(append([]int(nil), a.shape[:len(a.shape)-1]...), n)
		return gemmOp("matmul", a, b, rows, n, k, tb, shape)
	}
	batch := broadcastShape("matmul", aBatch, bBatch)
	nb := 1
	for _, d := range batch {
		nb *= d
	}
	shape := append(append([]int(nil), batch...), m, n)
	out := newOutput(shape)
	sa, sb := stridesFor(aBatch, batch), stridesFor(bBatch, batch)
	aOff, bOff := batchOffsets(batch, sa, m*k), batchOffsets(batch, sb, k*n)
	cOff := make([]int, nb)
	for i := range cOff {
		cOff[i] = i * m * n
	}
	lda, ldb := ld(k, m, ta), ld(n, k, tb)
	gemm.SgemmBatch(ta, tb, m, n, k, 1, a.data, aOff, lda, b.data, bOff, ldb, 0, out.data, cOff, n)
	return record("matmul", out, func(g []float32) {
		ga, gb := gradOf(a), gradOf(b)
		if ga != nil { // dA = dC·op(B)ᵀ, stored in op(A)'s layout
			if ta {
				gemm.SgemmBatch(tb, true, k, m, n, 1, b.data, bOff, ldb, g, cOff, n, 1, ga, aOff, lda)
			} else {
				gemm.SgemmBatch(false, !tb, m, k, n, 1, g, cOff, n, b.data, bOff, ldb, 1, ga, aOff, lda)
			}
		}
		if gb != nil { // dB = op(A)ᵀ·dC
			if tb {
				gemm.SgemmBatch(true, ta, n, k, m, 1, g, cOff, n, a.data, aOff, lda, 1, gb, bOff, ldb)
			} else {
				gemm.SgemmBatch(!ta, false, k, n, m, 1, a.data, aOff, lda, g, cOff, n, 1, gb, bOff, ldb)
			}
		}
	}, a, b)
}

// ld returns the stored row length of a matrix whose op() is rows×cols.
func ld(cols, rows int, trans bool) int {
	if trans {
		return max(rows, 1)
	}
	return max(cols, 1)
}

func transNote(ta, tb bool) string {
	switch {
	case ta && tb:
		return " (both transposed)"
	case ta:
		return " (first transposed)"
	case tb:
		return " (second transposed)"
	}
	return ""
}

// batchOffsets lists, for each index of the broadcast batch, the flat offset
// of the operand's matrix given the operand's batch strides (in matrices).
func batchOffsets(batch, strides []int, matSize int) []int {
	nb := 1
	for _, d := range batch {
		nb *= d
	}
	offs := make([]int, nb)
	idx := make([]int, len(batch))
	pos := 0
	for i := 0; i < nb; i++ {
		offs[i] = pos * matSize
		for k := len(batch) - 1; k >= 0; k-- {
			idx[k]++
			pos += strides[k]
			if idx[k] < batch[k] {
				break
			}
			pos -= strides[k] * batch[k]
			idx[k] = 0
		}
	}
	return offs
}

// gemmOp multiplies a (rows×k, row-major) by op(b) (k×n) into a tensor of shape.
func gemmOp(op string, a, b *Tensor, rows, n, k int, tb bool, shape []int) *Tensor {
	out := newOutput(shape)
	ldb := ld(n, k, tb)
	gemm.Sgemm(false, tb, rows, n, k, 1, a.data, max(k, 1), b.data, ldb, 0, out.data, n)
	return record(op, out, func(g []float32) {
		if ga := gradOf(a); ga != nil {
			gemm.Sgemm(false, !tb, rows, k, n, 1, g, n, b.data, ldb, 1, ga, max(k, 1))
		}
		if gb := gradOf(b); gb != nil {
			if tb {
				gemm.Sgemm(true, false, n, k, rows, 1, g, n, a.data, max(k, 1), 1, gb, ldb)
			} else {
				gemm.Sgemm(true, false, k, n, rows, 1, a.data, max(k, 1), g, n, 1, gb, ldb)
			}
		}
	}, a, b)
}

// Linear returns x·wᵀ + bias for x of shape (…, in), w of shape (out, in) and
// bias of shape (out) or nil — the affine map of a fully connected layer, in
// one GEMM without transposing w, which adds the bias as it writes the result.
func Linear(x, w, bias *Tensor) *Tensor { return linearAct("linear", x, w, bias, false) }
