package tensor

import (
	"fmt"
	"math"

	"github.com/graftml/graft/tensor/gemm"
)

// LinearReLU returns Linear(x, w, bias).ReLU() computed as one matrix
// product whose bias and ReLU are applied to each tile of the result while
// it is in cache; the values and gradients are those of the two operations,
// bit for bit.
func LinearReLU(x, w, bias *Tensor) *Tensor { return linearAct("linear_relu", x, w, bias, true) }

// linearAct computes x·wᵀ + bias, then ReLU when relu is set, with the bias
// and ReLU in the GEMM's epilogue.
func linearAct(op string, x, w, bias *Tensor, relu bool) *Tensor {
	if len(w.shape) != 2 || len(x.shape) == 0 || x.shape[len(x.shape)-1] != w.shape[1] {
		panic(fmt.Sprintf("%s: input %s and weight %s: the input's last dimension must equal the weight's second", op, FormatShape(x.shape), FormatShape(w.shape)))
	}
	outF, inF := w.shape[0], w.shape[1]
	if bias != nil && (len(bias.shape) != 1 || bias.shape[0] != outF) {
		panic(fmt.Sprintf("%s: bias %s does not match weight %s (want (%d))", op, FormatShape(bias.shape), FormatShape(w.shape), outF))
	}
	rows := 1
	for _, d := range x.shape[:len(x.shape)-1] {
		rows *= d
	}
	shape := append(append([]int(nil), x.shape[:len(x.shape)-1]...), outF)
	out := newOutputUninit(shape) // beta 0: the product writes every element
	ep := gemm.Epilogue{ReLU: relu}
	if bias != nil {
		ep.Bias = bias.data
	}
	gemm.SgemmEpilogue(false, true, rows, outF, inF, 1, x.data, max(inF, 1), w.data, max(inF, 1), 0, out.data, max(outF, 1), ep)
	y := out.data
	return record(op, out, func(g []float32) {
		if relu {
			// The gradient of the product: g where y > 0, else 0 (as ReLU's
			// backward adds it into a zeroed buffer).
			masked := getBuffer(len(g))
			defer putBuffer(masked)
			parallelFor(len(g), 1, func(lo, hi int) {
				m, gg := masked[lo:hi], g[lo:hi]
				for i, v := range y[lo:hi] {
					b := math.Float32bits(v)
					keep := uint32(int32(b|-b) >> 31) // all ones where y is non-zero (> 0)
					m[i] = 0 + math.Float32frombits(math.Float32bits(gg[i])&keep)
				}
			})
			g = masked
		}
		if gx := gradOf(x); gx != nil {
			gemm.Sgemm(false, false, rows, inF, outF, 1, g, max(outF, 1), w.data, max(inF, 1), 1, gx, max(inF, 1))
		}
		if gw := gradOf(w); gw != nil {
			gemm.Sgemm(true, false, outF, inF, rows, 1, g, max(outF, 1), x.data, max(inF, 1), 1, gw, max(inF, 1))
		}
		if gb := gradOf(bias); gb != nil {
			for r := 0; r < rows; r++ {
				for j, v := range g[r*outF : (r+1)*outF] {
					gb[j] += v
				}
			}
		}
	}, x, w, bias)
}
