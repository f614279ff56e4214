package tensor

import (
	"fmt"
	"slices"
)

// broadcastShape returns the NumPy broadcast of two shapes or panics naming op.
func broadcastShape(op string, a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			panic(fmt.Sprintf("%s: %s and %s cannot be broadcast together", op, FormatShape(a), FormatShape(b)))
		}
	}
	return out
}

// stridesFor returns row-major strides of shape aligned to the trailing dims of
// out, with 0 for dimensions that are broadcast (size 1 or missing).
func stridesFor(shape, out []int) []int {
	s := make([]int, len(out))
	stride := 1
	for i := len(shape) - 1; i >= 0; i-- {
		j := len(out) - len(shape) + i
		if shape[i] != 1 {
			s[j] = stride
		}
		stride *= shape[i]
	}
	return s
}

// rowWalk visits a broadcast pair as rows along the last output dimension,
// calling f(o, ia, ib) with the flat offsets of each row's first element in the
// output and in the two inputs. Rows have length n and the inputs advance by
// stepA and stepB (0 or 1) along a row.
type rowWalk struct {
	out          []int
	sa, sb       []int
	n            int
	stepA, stepB int
}

func newRowWalk(outShape, a, b []int) rowWalk {
	w := rowWalk{out: outShape, sa: stridesFor(a, outShape), sb: stridesFor(b, outShape), n: 1}
	if d := len(outShape); d > 0 {
		w.n = outShape[d-1]
		w.stepA, w.stepB = w.sa[d-1], w.sb[d-1]
	}
	return w
}

func (w rowWalk) each(f func(o, ia, ib int)) {
	d := len(w.out)
	if d <= 1 {
		f(0, 0, 0)
		return
	}
	rows := 1
	for _, v := range w.out[:d-1] {
		rows *= v
	}
	if rows == 0 || w.n == 0 {
		return
	}
	idx := make([]int, d-1)
	ia, ib := 0, 0
	for r := 0; r < rows; r++ {
		f(r*w.n, ia, ib)
		// advance the odometer over the leading dims
		for k := d - 2; k >= 0; k-- {
			idx[k]++
			ia += w.sa[k]
			ib += w.sb[k]
			if idx[k] < w.out[k] {
				break
			}
			ia -= w.sa[k] * w.out[k]
			ib -= w.sb[k] * w.out[k]
			idx[k] = 0
		}
	}
}

// BroadcastTo returns t expanded to shape by NumPy broadcasting rules (a copy).
// The gradient sums over the broadcast dimensions.
func (t *Tensor) BroadcastTo(shape ...int) *Tensor {
	bs := broadcastShape("broadcast_to", t.shape, shape)
	if !slices.Equal(bs, shape) {
		panic(fmt.Sprintf("broadcast_to: %s cannot be broadcast to %s", FormatShape(t.shape), FormatShape(shape)))
	}
	if slices.Equal(t.shape, shape) {
		return t
	}
	out := newOutput(shape)
	w := newRowWalk(shape, t.shape, nil)
	w.each(func(o, ia, _ int) {
		row := out.data[o : o+w.n]
		if w.stepA == 0 {
			v := t.data[ia]
			for j := range row {
				row[j] = v
			}
		} else {
			copy(row, t.data[ia:ia+w.n])
		}
	})
	return record("broadcast_to", out, func(g []float32) {
		ga := gradOf(t)
		w.each(func(o, ia, _ int) {
			gr := g[o : o+w.n]
			if w.stepA == 0 {
				var s float32
				for _, v := range gr {
					s += v
				}
				ga[ia] += s
			} else {
				dst := ga[ia : ia+w.n]
				for j, v := range gr {
					dst[j] += v
				}
			}
		})
	}, t)
}
