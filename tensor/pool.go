package tensor

import (
	"fmt"
	"math"
)

// PoolOptions configures MaxPool2d and AvgPool2d. Index 0 of each pair applies
// to the height axis and index 1 to the width axis. Kernel is required; a zero
// Stride means the kernel size (PyTorch's default); Padding defaults to 0 and
// may be at most half the kernel size.
type PoolOptions struct {
	Kernel, Stride, Padding [2]int
}

// poolGeom is the geometry of a pooling window over an NCHW (or CHW) input,
// with the batch and channel axes merged into planes.
type poolGeom struct {
	planes, h, w int
	kh, kw       int
	sh, sw       int
	ph, pw       int
	oh, ow       int
	outShape     []int
}

// poolPlanes splits a 4-D (N,C,H,W) or 3-D (C,H,W) shape into planes and the
// spatial size.
func poolPlanes(op string, x *Tensor) (planes, h, w int) {
	if len(x.shape) != 3 && len(x.shape) != 4 {
		panic(fmt.Sprintf("%s: input %s must be 4-D (N,C,H,W) or 3-D (C,H,W)", op, FormatShape(x.shape)))
	}
	nd := len(x.shape)
	h, w = x.shape[nd-2], x.shape[nd-1]
	planes = 1
	for _, d := range x.shape[:nd-2] {
		planes *= d
	}
	return planes, h, w
}

// poolSetup validates pooling options against x and returns the geometry.
func poolSetup(op string, x *Tensor, opt PoolOptions) poolGeom {
	var q poolGeom
	q.planes, q.h, q.w = poolPlanes(op, x)
	if opt.Kernel[0] < 1 || opt.Kernel[1] < 1 {
		panic(fmt.Sprintf("%s: kernel size must be positive, got (%d,%d)", op, opt.Kernel[0], opt.Kernel[1]))
	}
	q.kh, q.kw = opt.Kernel[0], opt.Kernel[1]
	stride := convPair(op, "stride", opt.Stride, 0, 0)
	if stride[0] == 0 {
		stride[0] = q.kh
	}
	if stride[1] == 0 {
		stride[1] = q.kw
	}
	q.sh, q.sw = stride[0], stride[1]
	pad := convPair(op, "padding", opt.Padding, 0, 0)
	q.ph, q.pw = pad[0], pad[1]
	if q.ph > q.kh/2 || q.pw > q.kw/2 {
		panic(fmt.Sprintf("%s: padding (%d,%d) should be at most half of kernel size (%d,%d)", op, q.ph, q.pw, q.kh, q.kw))
	}
	q.oh = convOutSize(q.h, q.kh, q.sh, q.ph, 1)
	q.ow = convOutSize(q.w, q.kw, q.sw, q.pw, 1)
	if q.oh < 1 || q.ow < 1 {
		panic(fmt.Sprintf("%s: input %s is too small: size %d×%d with padding (%d,%d) is smaller than kernel %d×%d (stride (%d,%d))",
			op, FormatShape(x.shape), q.h, q.w, q.ph, q.pw, q.kh, q.kw, q.sh, q.sw))
	}
	q.outShape = append(append([]int(nil), x.shape[:len(x.shape)-2]...), q.oh, q.ow)
	return q
}

// MaxPool2d returns the maximum over each kh×kw window of x (N,C,H,W) or
// (C,H,W), as torch.nn.functional.max_pool2d: padding counts as −∞, NaN
// propagates, and the gradient goes to the first maximum of each window.
func MaxPool2d(x *Tensor, opt PoolOptions) *Tensor {
	q := poolSetup("max_pool2d", x, opt)
	out := newOutput(q.outShape)
	hw, l := q.h*q.w, q.oh*q.ow
	// The flat position of each maximum within its plane, for the backward.
	// Positions below 2²⁴ are exact in float32, so the positions of all but
	// giant planes are kept in a pooled buffer, which Release recycles.
	var arg []float32
	var argBig []int32
	if hw > 1<<24 {
		argBig = make([]int32, q.planes*l)
	} else {
		arg = getBuffer(q.planes * l)
	}
	parallelWork(q.planes, q.planes*l*q.kh*q.kw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			src := x.data[p*hw : (p+1)*hw]
			dst := out.data[p*l : (p+1)*l]
			for oh := 0; oh < q.oh; oh++ {
				h0 := oh*q.sh - q.ph
				h1 := min(h0+q.kh, q.h)
				h0 = max(h0, 0)
				for ow := 0; ow < q.ow; ow++ {
					w0 := ow*q.sw - q.pw
					w1 := min(w0+q.kw, q.w)
					w0 = max(w0, 0)
					best := h0*q.w + w0
					m := float32(math.Inf(-1))
					for ih := h0; ih < h1; ih++ {
						row := src[ih*q.w : ih*q.w+w1]
						for iw := w0; iw < w1; iw++ {
							// Written so the compiler emits conditional moves: on
							// activations a branch here mispredicts half the time.
							v := row[iw]
							if !(v <= m) { // v > m, or a NaN
								best = ih*q.w + iw
							}
							m = max(m, v)
						}
					}
					j := oh*q.ow + ow
					dst[j] = m
					if argBig != nil {
						argBig[p*l+j] = int32(best)
					} else {
						arg[p*l+j] = float32(best)
					}
				}
			}
		}
	})
	out = record("max_pool2d", out, func(g []float32) {
		gx := gradOf(x)
		parallelWork(q.planes, q.planes*l, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				gp := gx[p*hw : (p+1)*hw]
				for i, v := range g[p*l : (p+1)*l] {
					if argBig != nil {
						gp[argBig[p*l+i]] += v
					} else {
						gp[int(arg[p*l+i])] += v
					}
				}
			}
		})
	}, x)
	if arg != nil {
		out.keepForBackward(arg)
	}
	return out
}

// AvgPool2d returns the mean over each kh×kw window of x (N,C,H,W) or (C,H,W),
// as torch.nn.functional.avg_pool2d with its defaults: zero padding is
// included in the count (count_include_pad=True).
func AvgPool2d(x *Tensor, opt PoolOptions) *Tensor {
	q := poolSetup("avg_pool2d", x, opt)
	out := newOutput(q.outShape)
	hw, l := q.h*q.w, q.oh*q.ow
	// window returns the clipped window of output (oh, ow) and 1/divisor.
	window := func(oh, ow int) (h0, h1, w0, w1 int, scale float32) {
		h0, w0 = oh*q.sh-q.ph, ow*q.sw-q.pw
		h1, w1 = min(h0+q.kh, q.h+q.ph), min(w0+q.kw, q.w+q.pw)
		scale = 1 / float32((h1-h0)*(w1-w0))
		return max(h0, 0), min(h1, q.h), max(w0, 0), min(w1, q.w), scale
	}
	parallelWork(q.planes, q.planes*l*q.kh*q.kw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			src, dst := x.data[p*hw:(p+1)*hw], out.data[p*l:(p+1)*l]
			for oh := 0; oh < q.oh; oh++ {
				for ow := 0; ow < q.ow; ow++ {
					h0, h1, w0, w1, scale := window(oh, ow)
					var s float32
					for ih := h0; ih < h1; ih++ {
						for _, v := range src[ih*q.w+w0 : ih*q.w+w1] {
							s += v
						}
					}
					dst[oh*q.ow+ow] = s * scale
				}
			}
		}
	})
	return record("avg_pool2d", out, func(g []float32) {
		gx := gradOf(x)
		parallelWork(q.planes, q.planes*l*q.kh*q.kw, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				gp, gr := gx[p*hw:(p+1)*hw], g[p*l:(p+1)*l]
				for oh := 0; oh < q.oh; oh++ {
					for ow := 0; ow < q.ow; ow++ {
						h0, h1, w0, w1, scale := window(oh, ow)
						v := gr[oh*q.ow+ow] * scale
						for ih := h0; ih < h1; ih++ {
							row := gp[ih*q.w+w0 : ih*q.w+w1]
							for i := range row {
								row[i] += v
							}
						}
					}
				}
			}
		})
	}, x)
}

// poolAdaptiveBounds returns PyTorch's adaptive window [⌊i·in/out⌋, ⌈(i+1)·in/out⌉).
func poolAdaptiveBounds(i, in, out int) (int, int) {
	return i * in / out, ((i+1)*in + out - 1) / out
}

// AdaptiveAvgPool2d averages x (N,C,H,W) or (C,H,W) down to outH×outW, as
// torch.nn.functional.adaptive_avg_pool2d: output row i averages input rows
// ⌊i·H/outH⌋ to ⌈(i+1)·H/outH⌉ − 1 (likewise columns), so windows may overlap.
func AdaptiveAvgPool2d(x *Tensor, outH, outW int) *Tensor {
	const op = "adaptive_avg_pool2d"
	planes, h, w := poolPlanes(op, x)
	if outH < 1 || outW < 1 {
		panic(fmt.Sprintf("%s: output size must be positive, got (%d,%d)", op, outH, outW))
	}
	if h < 1 || w < 1 {
		panic(fmt.Sprintf("%s: input %s has an empty spatial dimension", op, FormatShape(x.shape)))
	}
	shape := append(append([]int(nil), x.shape[:len(x.shape)-2]...), outH, outW)
	out := newOutput(shape)
	hw, l := h*w, outH*outW
	parallelWork(planes, planes*hw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			src, dst := x.data[p*hw:(p+1)*hw], out.data[p*l:(p+1)*l]
			for i := 0; i < outH; i++ {
				h0, h1 := poolAdaptiveBounds(i, h, outH)
				for j := 0; j < outW; j++ {
					w0, w1 := poolAdaptiveBounds(j, w, outW)
					var s float32
					for ih := h0; ih < h1; ih++ {
						for _, v := range src[ih*w+w0 : ih*w+w1] {
							s += v
						}
					}
					dst[i*outW+j] = s / float32((h1-h0)*(w1-w0))
				}
			}
		}
	})
	return record(op, out, func(g []float32) {
		gx := gradOf(x)
		parallelWork(planes, planes*hw, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				gp, gr := gx[p*hw:(p+1)*hw], g[p*l:(p+1)*l]
				for i := 0; i < outH; i++ {
					h0, h1 := poolAdaptiveBounds(i, h, outH)
					for j := 0; j < outW; j++ {
						w0, w1 := poolAdaptiveBounds(j, w, outW)
						v := gr[i*outW+j] / float32((h1-h0)*(w1-w0))
						for ih := h0; ih < h1; ih++ {
							row := gp[ih*w+w0 : ih*w+w1]
							for k := range row {
								row[k] += v
							}
						}
					}
				}
			}
		})
	}, x)
}
