package tensor

import (
	"fmt"

	"github.com/graftml/graft/tensor/gemm"
)

// Conv2dOptions configures Conv2d. Index 0 of each pair applies to the height
// axis and index 1 to the width axis. Zero values select PyTorch's defaults:
// stride 1, padding 0, dilation 1 and groups 1.
type Conv2dOptions struct {
	Stride, Padding, Dilation [2]int
	Groups                    int
}

// convGeom is the geometry of a 2-D sliding window over an NCHW input.
type convGeom struct {
	n, c, h, w int  // input batch, channels, height, width
	kh, kw     int  // kernel
	sh, sw     int  // stride
	ph, pw     int  // zero padding
	dh, dw     int  // dilation
	oh, ow     int  // output height, width
	unbatched  bool // the input was (C,H,W)
}

// convColLimit caps the number of float32 values in the im2col buffer; the
// batch is processed in chunks of images that fit (at least one image).
var convColLimit = 1 << 17

// convKeepLimit caps the number of float32 values of im2col columns that a
// convolution keeps from its forward pass for the weight gradient; larger
// layers rebuild the columns during backward instead (PyTorch's memory use).
var convKeepLimit = 1 << 22

// convValidRange returns [lo,hi) such that start+o·stride lies in [0,size)
// exactly for o in [lo,hi), clipped to [0,n).
func convValidRange(start, stride, size, n int) (lo, hi int) {
	if start < 0 {
		lo = (-start + stride - 1) / stride
	}
	if last := size - 1 - start; last >= 0 {
		hi = min(last/stride+1, n)
	}
	return min(lo, hi), hi
}

// convOutSize returns the output length of a sliding window, or a value < 1
// when the padded input is shorter than the dilated kernel.
func convOutSize(in, k, stride, pad, dil int) int {
	eff := dil*(k-1) + 1
	if in+2*pad < eff {
		return 0
	}
	return (in+2*pad-eff)/stride + 1
}

// convPair applies a default to a zero entry and checks the result.
func convPair(op, what string, p [2]int, def, lo int) [2]int {
	for i := range p {
		if p[i] == 0 {
			p[i] = def
		}
		if p[i] < lo {
			panic(fmt.Sprintf("%s: %s must be at least %d, got (%d,%d)", op, what, lo, p[0], p[1]))
		}
	}
	return p
}

// convSetup validates Conv2d's arguments and returns the geometry and groups.
func convSetup(x, weight, bias *Tensor, opt Conv2dOptions) (convGeom, int) {
	const op = "conv2d"
	var q convGeom
	switch len(x.shape) {
	case 4:
		q.n, q.c, q.h, q.w = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	case 3:
		q.n, q.c, q.h, q.w, q.unbatched = 1, x.shape[0], x.shape[1], x.shape[2], true
	default:
		panic(fmt.Sprintf("%s: input %s must be 4-D (N,C,H,W) or 3-D (C,H,W)", op, FormatShape(x.shape)))
	}
	if len(weight.shape) != 4 {
		panic(fmt.Sprintf("%s: weight %s must be 4-D (out_channels, in_channels/groups, kh, kw)", op, FormatShape(weight.shape)))
	}
	groups := opt.Groups
	if groups == 0 {
		groups = 1
	}
	if groups < 0 {
		panic(fmt.Sprintf("%s: groups must be positive, got %d", op, groups))
	}
	stride := convPair(op, "stride", opt.Stride, 1, 1)
	dil := convPair(op, "dilation", opt.Dilation, 1, 1)
	pad := convPair(op, "padding", opt.Padding, 0, 0)
	o := weight.shape[0]
	if q.c%groups != 0 {
		panic(fmt.Sprintf("%s: input %s has %d channels, which groups %d does not divide", op, FormatShape(x.shape), q.c, groups))
	}
	if o%groups != 0 {
		panic(fmt.Sprintf("%s: weight %s has %d output channels, which groups %d does not divide", op, FormatShape(weight.shape), o, groups))
	}
	if want := weight.shape[1] * groups; q.c != want {
		panic(fmt.Sprintf("%s: input %s has %d channels but weight %s expects %d (groups %d)", op, FormatShape(x.shape), q.c, FormatShape(weight.shape), want, groups))
	}
	if bias != nil && (len(bias.shape) != 1 || bias.shape[0] != o) {
		panic(fmt.Sprintf("%s: bias %s does not match weight %s (want (%d))", op, FormatShape(bias.shape), FormatShape(weight.shape), o))
	}
	q.kh, q.kw = weight.shape[2], weight.shape[3]
	q.sh, q.sw = stride[0], stride[1]
	q.ph, q.pw = pad[0], pad[1]
	q.dh, q.dw = dil[0], dil[1]
	q.oh = convOutSize(q.h, q.kh, q.sh, q.ph, q.dh)
	q.ow = convOutSize(q.w, q.kw, q.sw, q.pw, q.dw)
	if q.oh < 1 || q.ow < 1 || q.kh < 1 || q.kw < 1 {
		panic(fmt.Sprintf("%s: input %s is too small: size %d×%d with padding (%d,%d) is smaller than kernel %d×%d with dilation (%d,%d) (stride (%d,%d))",
			op, FormatShape(x.shape), q.h, q.w, q.ph, q.pw, q.kh, q.kw, q.dh, q.dw, q.sh, q.sw))
	}
	return q, groups
}

// im2col writes the columns of one image's channel block x (cg planes of
// h×w) into col: row (c,ki,kj) of col, at columns off..off+oh·ow, holds the
// input value under kernel tap (ki,kj) of channel c for each output position
// (0 where it falls in the padding).
func (q *convGeom) im2col(col []float32, ld, off int, x []float32, cg int) {
	h, w, oh, ow := q.h, q.w, q.oh, q.ow
	sh, sw := q.sh, q.sw
	l, hw := oh*ow, h*w
	row := 0
	for c := 0; c < cg; c++ {
		src := x[c*hw : (c+1)*hw]
		for ki := 0; ki < q.kh; ki++ {
			ih0 := ki*q.dh - q.ph
			hlo, hhi := convValidRange(ih0, sh, h, oh)
			for kj := 0; kj < q.kw; kj++ {
				dst := col[row*ld+off : row*ld+off+l]
				row++
				iw0 := kj*q.dw - q.pw
				lo, hi := convValidRange(iw0, sw, w, ow)
				if lo == hi || hlo == hhi {
					clear(dst)
					continue
				}
				clear(dst[:hlo*ow])
				clear(dst[hhi*ow:])
				n := hi - lo
				for y := hlo; y < hhi; y++ {
					d := dst[y*ow : (y+1)*ow]
					if lo > 0 {
						clear(d[:lo])
					}
					if hi < ow {
						clear(d[hi:])
					}
					s0 := (y*sh+ih0)*w + lo*sw + iw0
					if sw == 1 {
						d, s := d[lo:hi], src[s0:s0+n]
						if n > 16 {
							copy(d, s)
							continue
						}
						for i, v := range s {
							d[i] = v
						}
						continue
					}
					s := src[s0 : s0+(n-1)*sw+1]
					for i := range d[lo:hi] {
						d[lo+i] = s[i*sw]
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: it adds each column entry into the input
// position it was read from.
func (q *convGeom) col2im(col []float32, ld, off int, x []float32, cg int) {
	h, w, oh, ow := q.h, q.w, q.oh, q.ow
	sh, sw := q.sh, q.sw
	l, hw := oh*ow, h*w
	row := 0
	for c := 0; c < cg; c++ {
		plane := x[c*hw : (c+1)*hw]
		for ki := 0; ki < q.kh; ki++ {
			ih0 := ki*q.dh - q.ph
			hlo, hhi := convValidRange(ih0, sh, h, oh)
			for kj := 0; kj < q.kw; kj++ {
				src := col[row*ld+off : row*ld+off+l]
				row++
				iw0 := kj*q.dw - q.pw
				lo, hi := convValidRange(iw0, sw, w, ow)
				n := hi - lo
				if n == 0 {
					continue
				}
				for y := hlo; y < hhi; y++ {
					s := src[y*ow+lo : y*ow+hi]
					d0 := (y*sh+ih0)*w + lo*sw + iw0
					if sw == 1 {
						d := plane[d0 : d0+n]
						d = d[:len(s)]
						for i, v := range s {
							d[i] += v
						}
						continue
					}
					d := plane[d0 : d0+(n-1)*sw+1]
					for i, v := range s {
						d[i*sw] += v
					}
				}
			}
		}
	}
}

// Conv2d returns the 2-D cross-correlation of x with weight plus bias, as
// PyTorch's torch.nn.functional.conv2d: x is (N,C,H,W) (or unbatched
// (C,H,W)), weight is (O, C/groups, kh, kw), bias is (O) or nil, and the
// result is (N,O,OH,OW) with OH = ⌊(H + 2·padding − dilation·(kh−1) − 1)/stride⌋ + 1
// (likewise OW). With groups g the channels split into g independent blocks.
// It is computed by im2col and matrix products (gemm.Sgemm) over chunks of
// images; the backward pass computes the weight gradient by a GEMM that
// accumulates into its grad buffer and the input gradient by a GEMM into
// columns followed by col2im.
func Conv2d(x, weight, bias *Tensor, opt Conv2dOptions) *Tensor {
	q, groups := convSetup(x, weight, bias, opt)
	o := weight.shape[0]
	cg, og := q.c/groups, o/groups
	k, l := cg*q.kh*q.kw, q.oh*q.ow
	shape := []int{q.n, o, q.oh, q.ow}
	if q.unbatched {
		shape = shape[1:]
	}
	out := newOutput(shape)
	if q.n == 0 || l == 0 {
		return record("conv2d", out, func([]float32) {}, x, weight, bias)
	}
	nb := q.n
	if k*l > 0 {
		nb = min(q.n, max(1, convColLimit/(k*l)))
	}
	// keep holds every chunk's columns for the weight gradient when they are
	// small enough, so backward need not rebuild them.
	var keep []float32
	if tracking(weight) && groups*k*q.n*l <= convKeepLimit {
		keep = getBuffer(groups * k * q.n * l)
	}
	var col []float32
	if keep == nil {
		col = getBuffer(k * nb * l)
	}
	tmp := getBuffer(og * nb * l)
	pos := 0
	for n0 := 0; n0 < q.n; n0 += nb {
		cnt := min(nb, q.n-n0)
		ld := cnt * l
		for g := 0; g < groups; g++ {
			c := col
			if keep != nil {
				c = keep[pos : pos+k*ld]
				pos += k * ld
			}
			q.im2colBatch(c, ld, x.data, n0, cnt, g*cg, cg)
			gemm.Sgemm(false, false, og, ld, k, 1, weight.data[g*og*k:], max(k, 1), c, ld, 0, tmp, ld)
			parallelWork(cnt, og*ld, func(lo, hi int) {
				for j := lo; j < hi; j++ {
					for oc := 0; oc < og; oc++ {
						ch := g*og + oc
						dst := out.data[((n0+j)*o+ch)*l : ((n0+j)*o+ch+1)*l]
						src := tmp[oc*ld+j*l : oc*ld+(j+1)*l]
						if bias == nil {
							copy(dst, src)
							continue
						}
						b := bias.data[ch]
						for i, v := range src {
							dst[i] = v + b
						}
					}
				}
			})
		}
	}
	putBuffer(tmp)
	if col != nil {
		putBuffer(col)
	}
	return record("conv2d", out, func(gr []float32) {
		gx, gw, gb := gradOf(x), gradOf(weight), gradOf(bias)
		if gb != nil {
			for ch := 0; ch < o; ch++ {
				var s float64
				for n := 0; n < q.n; n++ {
					var r float32
					for _, v := range gr[(n*o+ch)*l : (n*o+ch+1)*l] {
						r += v
					}
					s += float64(r)
				}
				gb[ch] += float32(s)
			}
		}
		if gx == nil && gw == nil {
			return
		}
		col := getBuffer(k * nb * l)
		dy := getBuffer(og * nb * l)
		pos := 0
		for n0 := 0; n0 < q.n; n0 += nb {
			cnt := min(nb, q.n-n0)
			ld := cnt * l
			for g := 0; g < groups; g++ {
				// dy (og × cnt·l) gathers this group's output gradient.
				parallelWork(cnt, og*ld, func(lo, hi int) {
					for j := lo; j < hi; j++ {
						for oc := 0; oc < og; oc++ {
							ch := g*og + oc
							copy(dy[oc*ld+j*l:oc*ld+(j+1)*l], gr[((n0+j)*o+ch)*l:((n0+j)*o+ch+1)*l])
						}
					}
				})
				if gw != nil { // dW_g += dY_g · colᵀ
					c := col
					if keep != nil {
						c = keep[pos : pos+k*ld]
					} else {
						q.im2colBatch(c, ld, x.data, n0, cnt, g*cg, cg)
					}
					gemm.Sgemm(false, true, og, k, ld, 1, dy, ld, c, ld, 1, gw[g*og*k:], max(k, 1))
				}
				pos += k * ld
				if gx != nil { // dcol = W_gᵀ · dY_g, then scatter back to the input
					gemm.Sgemm(true, false, k, ld, og, 1, weight.data[g*og*k:], max(k, 1), dy, ld, 0, col, ld)
					hw := q.h * q.w
					parallelWork(cnt, k*ld, func(lo, hi int) {
						for j := lo; j < hi; j++ {
							base := ((n0+j)*q.c + g*cg) * hw
							q.col2im(col, ld, j*l, gx[base:base+cg*hw], cg)
						}
					})
				}
			}
		}
		putBuffer(dy)
		putBuffer(col)
		if keep != nil { // a second Backward through this graph rebuilds the columns
			putBuffer(keep)
			keep = nil
		}
	}, x, weight, bias)
}

// im2colBatch fills col (k × cnt·l, row stride ld) with the columns of images
// n0..n0+cnt−1, channels c0..c0+cg−1 of x.
func (q *convGeom) im2colBatch(col []float32, ld int, x []float32, n0, cnt, c0, cg int) {
	hw, l := q.h*q.w, q.oh*q.ow
	parallelWork(cnt, cnt*cg*q.kh*q.kw*l, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			base := ((n0+j)*q.c + c0) * hw
			q.im2col(col, ld, j*l, x[base:base+cg*hw], cg)
		}
	})
}
