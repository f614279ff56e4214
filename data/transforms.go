package data

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/graftml/graft/tensor"
)

// Image transforms. Each takes a batch of images laid out (N, C, H, W) and
// returns a new tensor, leaving its input unchanged; none records gradients.
// Like graft's tensor operations they panic on a shape they cannot work on,
// naming the transform and the shape (the kernel reports that as a cell
// error; Dataset.Map turns it into an error). Pixel rows are numbered from
// the top, columns from the left, and the centre of an H×W image is the
// point ((W−1)/2, (H−1)/2) between pixel centres.

// images checks that x is (N, C, H, W) and returns its dimensions.
func images(op string, x *tensor.Tensor) (n, c, h, w int) {
	if x == nil {
		panic(fmt.Sprintf("data.%s: images are nil", op))
	}
	if x.Dims() != 4 {
		panic(fmt.Sprintf("data.%s: images have shape %s, want (N,C,H,W)", op, tensor.FormatShape(x.Shape())))
	}
	return x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
}

// forPlanes runs f on the n planes (images or image channels) in [0, n),
// split over the machine's cores when there is enough work.
func forPlanes(n, planeSize int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n*planeSize < 1<<16 {
		workers = 1
	}
	workers = max(1, min(workers, n))
	if workers == 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	wg.Wait()
}

// Rotate returns the images x (N, C, H, W) rotated by degrees about their
// centres, counter-clockwise as the image is viewed (row 0 at the top) for
// positive angles. Each output pixel is sampled bilinearly from the input
// at the inversely rotated position; what falls outside the input is 0.
// The output has the input's size, so corners are cut off.
func Rotate(x *tensor.Tensor, degrees float64) *tensor.Tensor {
	n, _, _, _ := images("Rotate", x)
	angles := make([]float64, n)
	for i := range angles {
		angles[i] = degrees
	}
	return rotate("Rotate", x, angles)
}

// RotateEach is Rotate with its own angle for each image: degrees[i]
// rotates image i. It panics unless len(degrees) is N.
func RotateEach(x *tensor.Tensor, degrees []float64) *tensor.Tensor {
	n, _, _, _ := images("RotateEach", x)
	if len(degrees) != n {
		panic(fmt.Sprintf("data.RotateEach: %d angles for %d images %s", len(degrees), n, tensor.FormatShape(x.Shape())))
	}
	return rotate("RotateEach", x, degrees)
}

func rotate(op string, x *tensor.Tensor, degrees []float64) *tensor.Tensor {
	n, c, h, w := images(op, x)
	src := x.Data()
	out := make([]float32, len(src))
	plane := h * w
	cx, cy := float64(w-1)/2, float64(h-1)/2
	forPlanes(n, c*plane, func(lo, hi int) {
		taps := make([]bilinearTap, plane)
		for img := lo; img < hi; img++ {
			rad := degrees[img] * math.Pi / 180
			cos, sin := math.Cos(rad), math.Sin(rad)
			for i := range h {
				for j := range w {
					// Output position with y pointing up; the source is the
					// position rotated back by the angle.
					u, v := float64(j)-cx, cy-float64(i)
					su, sv := cos*u+sin*v, -sin*u+cos*v
					taps[i*w+j] = newBilinearTap(cy-sv, cx+su, h, w)
				}
			}
			for ch := range c {
				base := (img*c + ch) * plane
				in, o := src[base:base+plane], out[base:base+plane]
				for p, t := range taps {
					var s float32
					for k := range 4 {
						if t.idx[k] >= 0 {
							s += t.wt[k] * in[t.idx[k]]
						}
					}
					o[p] = s
				}
			}
		}
	})
	return tensor.Wrap(out, x.Shape()...)
}

// bilinearTap is where one output pixel samples its input: up to four
// input pixels (index −1 for one outside the image) and their weights.
type bilinearTap struct {
	idx [4]int
	wt  [4]float32
}

// newBilinearTap samples an h×w plane at row r, column q (fractional).
func newBilinearTap(r, q float64, h, w int) bilinearTap {
	r0, q0 := math.Floor(r), math.Floor(q)
	fr, fq := r-r0, q-q0
	var t bilinearTap
	k := 0
	for dr := range 2 {
		for dq := range 2 {
			rr, qq := int(r0)+dr, int(q0)+dq
			wr, wq := 1-fr, 1-fq
			if dr == 1 {
				wr = fr
			}
			if dq == 1 {
				wq = fq
			}
			t.idx[k], t.wt[k] = -1, float32(wr*wq)
			if rr >= 0 && rr < h && qq >= 0 && qq < w {
				t.idx[k] = rr*w + qq
			}
			k++
		}
	}
	return t
}

// AddNoise returns x (any shape) plus independent Gaussian noise of
// standard deviation std drawn from a generator seeded with seed. Values
// are not clamped. It panics if std is negative.
func AddNoise(x *tensor.Tensor, std float64, seed uint64) *tensor.Tensor {
	if x == nil {
		panic("data.AddNoise: input is nil")
	}
	if std < 0 || math.IsNaN(std) {
		panic(fmt.Sprintf("data.AddNoise: std %v is negative", std))
	}
	rng := tensor.NewRNG(seed)
	src := x.Data()
	out := make([]float32, len(src))
	for i, v := range src {
		out[i] = v + float32(std*rng.NormFloat64())
	}
	return tensor.Wrap(out, x.Shape()...)
}

// taps1D lists, for each output index along one axis, the input indices
// it averages and their weights: one row of a sparse resampling matrix.
type taps1D struct {
	idx []int
	wt  []float32
}

// resample applies the separable resampling rows (for H) and cols (for W)
// to every plane of x (N, C, H, W), giving (N, C, len(rows), len(cols)).
func resample(x *tensor.Tensor, rows, cols []taps1D) *tensor.Tensor {
	n, c, h, w := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	oh, ow := len(rows), len(cols)
	src := x.Data()
	out := make([]float32, n*c*oh*ow)
	forPlanes(n*c, h*w+oh*ow, func(lo, hi int) {
		tmp := make([]float32, h*ow) // the plane resampled along W only
		for p := lo; p < hi; p++ {
			in := src[p*h*w : (p+1)*h*w]
			for i := range h {
				row := in[i*w : (i+1)*w]
				for j, t := range cols {
					var s float32
					for k, q := range t.idx {
						s += t.wt[k] * row[q]
					}
					tmp[i*ow+j] = s
				}
			}
			o := out[p*oh*ow : (p+1)*oh*ow]
			for i, t := range rows {
				for j := range ow {
					var s float32
					for k, r := range t.idx {
						s += t.wt[k] * tmp[r*ow+j]
					}
					o[i*ow+j] = s
				}
			}
		}
	})
	return tensor.Wrap(out, n, c, oh, ow)
}

// GaussianBlur returns the images x (N, C, H, W) blurred by a Gaussian of
// standard deviation sigma pixels, applied separably along rows and
// columns. The kernel spans ±ceil(3σ) pixels and its weights are
// exp(−k²/2σ²) normalised to sum to 1; beyond the border the image is
// mirrored without repeating the edge pixel (PyTorch's "reflect"), so a
// constant image stays constant. sigma 0 returns a copy; a negative sigma
// panics.
func GaussianBlur(x *tensor.Tensor, sigma float64) *tensor.Tensor {
	_, _, h, w := images("GaussianBlur", x)
	if sigma < 0 || math.IsNaN(sigma) {
		panic(fmt.Sprintf("data.GaussianBlur: sigma %v is negative", sigma))
	}
	if sigma == 0 {
		return x.Detach().Clone()
	}
	return resample(x, gaussianTaps(h, sigma), gaussianTaps(w, sigma))
}

// GaussianKernel returns the normalised 1-D Gaussian weights GaussianBlur
// uses for sigma, from offset −ceil(3σ) to +ceil(3σ).
func GaussianKernel(sigma float64) []float64 {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}

func gaussianTaps(n int, sigma float64) []taps1D {
	k := GaussianKernel(sigma)
	r := len(k) / 2
	out := make([]taps1D, n)
	acc := make([]float64, len(k)) // weight of input pixel i−r+m
	for i := range out {
		clear(acc)
		// Mirroring only brings an offset closer to i, so every tap lands
		// within ±r of it; mirrored offsets may share a pixel.
		for d, v := range k {
			acc[reflect(i+d-r, n)-i+r] += v
		}
		for m, v := range acc {
			if v != 0 {
				out[i].idx = append(out[i].idx, i-r+m)
				out[i].wt = append(out[i].wt, float32(v))
			}
		}
	}
	return out
}

// reflect maps any index onto [0, n) by mirroring at the borders without
// repeating the edge (…, 2, 1, 0, 1, 2, …, n−2, n−1, n−2, …).
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

// Resize returns the images x (N, C, H, W) resampled to h×w by bilinear
// interpolation with pixel centres aligned as PyTorch's
// interpolate(mode="bilinear", align_corners=False) without antialiasing:
// output pixel i samples the input at (i+0.5)·H/h − 0.5, clamped to the
// image. It suits enlarging and mild shrinking; for shrinking by a large
// factor use ResizeArea, which does not alias. It panics unless h and w are
// positive.
func Resize(x *tensor.Tensor, h, w int) *tensor.Tensor {
	_, _, ih, iw := images("Resize", x)
	checkSize("Resize", x, h, w)
	return resample(x, bilinearTaps(ih, h), bilinearTaps(iw, w))
}

func checkSize(op string, x *tensor.Tensor, h, w int) {
	if h < 1 || w < 1 {
		panic(fmt.Sprintf("data.%s: output size %dx%d for images %s: both must be positive", op, h, w, tensor.FormatShape(x.Shape())))
	}
	if x.Dim(2) < 1 || x.Dim(3) < 1 {
		panic(fmt.Sprintf("data.%s: images %s are empty", op, tensor.FormatShape(x.Shape())))
	}
}

func bilinearTaps(in, out int) []taps1D {
	scale := float64(in) / float64(out)
	taps := make([]taps1D, out)
	for i := range taps {
		s := max(0, (float64(i)+0.5)*scale-0.5)
		i0 := min(int(s), in-1)
		i1 := min(i0+1, in-1)
		f := s - float64(i0)
		if i1 == i0 {
			taps[i] = taps1D{idx: []int{i0}, wt: []float32{1}}
			continue
		}
		taps[i] = taps1D{idx: []int{i0, i1}, wt: []float32{float32(1 - f), float32(f)}}
	}
	return taps
}

// ResizeArea returns the images x (N, C, H, W) resampled to h×w by area
// averaging: output pixel (i, j) covers the input rectangle
// [i·H/h, (i+1)·H/h) × [j·W/w, (j+1)·W/w) and is the mean of the input
// over it, each input pixel weighted by the area it shares with the
// rectangle (a box filter, as OpenCV's INTER_AREA and PIL's BOX). Shrinking
// by a whole factor averages blocks (PyTorch's adaptive average pooling);
// enlarging by a whole factor repeats pixels. It panics unless h and w are
// positive.
func ResizeArea(x *tensor.Tensor, h, w int) *tensor.Tensor {
	_, _, ih, iw := images("ResizeArea", x)
	checkSize("ResizeArea", x, h, w)
	return resample(x, areaTaps(ih, h), areaTaps(iw, w))
}

func areaTaps(in, out int) []taps1D {
	scale := float64(in) / float64(out)
	taps := make([]taps1D, out)
	for i := range taps {
		a, b := float64(i)*scale, float64(i+1)*scale
		for j := int(math.Floor(a)); j < in && float64(j) < b; j++ {
			overlap := math.Min(b, float64(j+1)) - math.Max(a, float64(j))
			if overlap <= 1e-12 {
				continue
			}
			taps[i].idx = append(taps[i].idx, j)
			taps[i].wt = append(taps[i].wt, float32(overlap/scale))
		}
	}
	return taps
}

// ToRGB returns one-channel images (N, 1, H, W) with the channel repeated
// three times, (N, 3, H, W); three-channel images come back as a copy. It
// panics for any other number of channels.
func ToRGB(x *tensor.Tensor) *tensor.Tensor {
	_, c, _, _ := images("ToRGB", x)
	switch c {
	case 3:
		return x.Detach().Clone()
	case 1:
		return tensor.Concat(1, x.Detach(), x.Detach(), x.Detach())
	}
	panic(fmt.Sprintf("data.ToRGB: images %s have %d channels, want 1 or 3", tensor.FormatShape(x.Shape()), c))
}

// ToGray returns three-channel images (N, 3, H, W) as one channel,
// (N, 1, H, W), weighting red, green and blue by the luma coefficients
// 0.299, 0.587 and 0.114 (ITU-R BT.601); one-channel images come back as a
// copy. It panics for any other number of channels.
func ToGray(x *tensor.Tensor) *tensor.Tensor {
	n, c, h, w := images("ToGray", x)
	switch c {
	case 1:
		return x.Detach().Clone()
	case 3:
		src := x.Data()
		plane := h * w
		out := make([]float32, n*plane)
		for i := range n {
			r, g, b := src[(3*i)*plane:], src[(3*i+1)*plane:], src[(3*i+2)*plane:]
			o := out[i*plane : (i+1)*plane]
			for p := range o {
				o[p] = 0.299*r[p] + 0.587*g[p] + 0.114*b[p]
			}
		}
		return tensor.Wrap(out, n, 1, h, w)
	}
	panic(fmt.Sprintf("data.ToGray: images %s have %d channels, want 1 or 3", tensor.FormatShape(x.Shape()), c))
}

// ColourTextures returns n procedurally generated colour images
// (n, 3, h, w) with values in [0, 1], seeded by seed: smooth random colour
// fields standing in for the photo patches MNIST-M blends digits with.
// Each image is the sum of two octaves of value noise: a coarse grid of
// 2 to 4 random colours per side and a fine grid of 6 to 8 per side with
// a third of the amplitude, each upsampled bilinearly over the image, then
// clamped to [0, 1].
func ColourTextures(n, h, w int, seed uint64) *tensor.Tensor {
	if n < 0 || h < 1 || w < 1 {
		panic(fmt.Sprintf("data.ColourTextures: %d images of %dx%d: the count must not be negative and the size must be positive", n, h, w))
	}
	// Draw every image's grids first, in order, so that the result does
	// not depend on how the pixels are then computed in parallel.
	type octaves struct {
		coarse, fine int
		grids        [2][]float64 // 3 channels of g×g values each
	}
	rng := tensor.NewRNG(seed)
	all := make([]octaves, n)
	for i := range all {
		o := &all[i]
		o.coarse, o.fine = 2+int(rng.Uint64()%3), 6+int(rng.Uint64()%3)
		o.grids[0], o.grids[1] = make([]float64, 3*o.coarse*o.coarse), make([]float64, 3*o.fine*o.fine)
		for j := range o.grids[0] {
			o.grids[0][j] = rng.Float64()
		}
		for j := range o.grids[1] {
			o.grids[1][j] = (rng.Float64() - 0.5) * 2 / 3
		}
	}
	// Interpolation positions along each axis for every grid size used.
	rowsFor, colsFor := map[int][]gridPos{}, map[int][]gridPos{}
	for g := 2; g <= 8; g++ {
		rowsFor[g], colsFor[g] = gridPositions(h, g), gridPositions(w, g)
	}
	plane := h * w
	out := make([]float32, n*3*plane)
	forPlanes(n, 3*plane*8, func(lo, hi int) {
		acc := make([]float64, plane)
		for img := lo; img < hi; img++ {
			o := all[img]
			for ch := range 3 {
				clear(acc)
				for oct, g := range []int{o.coarse, o.fine} {
					grid := o.grids[oct][ch*g*g : (ch+1)*g*g]
					rows, cols := rowsFor[g], colsFor[g]
					for i, r := range rows {
						top, bottom := grid[r.k*g:], grid[(r.k+1)*g:]
						for j, q := range cols {
							v0 := (1-q.f)*top[q.k] + q.f*top[q.k+1]
							v1 := (1-q.f)*bottom[q.k] + q.f*bottom[q.k+1]
							acc[i*w+j] += (1-r.f)*v0 + r.f*v1
						}
					}
				}
				dst := out[(img*3+ch)*plane : (img*3+ch+1)*plane]
				for p, v := range acc {
					dst[p] = float32(math.Max(0, math.Min(1, v)))
				}
			}
		}
	})
	return tensor.Wrap(out, n, 3, h, w)
}

// gridPos is where a pixel falls between the points of a value-noise
// grid: between points k and k+1, a fraction f of the way.
type gridPos struct {
	k int
	f float64
}

// gridPositions places the size pixels of an axis on a grid of g points
// whose first and last points lie on the first and last pixels.
func gridPositions(size, g int) []gridPos {
	out := make([]gridPos, size)
	if size == 1 {
		return out
	}
	for p := range out {
		s := float64(p) * float64(g-1) / float64(size-1)
		k := min(int(s), g-2)
		out[p] = gridPos{k, s - float64(k)}
	}
	return out
}

// BlendDifference returns images blended with backgrounds as MNIST-M was
// made: |background − image| per channel. x is (N, 1, H, W) or
// (N, 3, H, W) (a single channel is used for all three), backgrounds is
// (N, 3, H, W); the result is (N, 3, H, W). With both in [0, 1], ink (1)
// on a background shows the background's complementary colour and blank
// paper (0) shows the background itself.
func BlendDifference(x, backgrounds *tensor.Tensor) *tensor.Tensor {
	n, c, h, w := images("BlendDifference", x)
	if c != 1 && c != 3 {
		panic(fmt.Sprintf("data.BlendDifference: images %s have %d channels, want 1 or 3", tensor.FormatShape(x.Shape()), c))
	}
	bn, bc, bh, bw := images("BlendDifference", backgrounds)
	if bn != n || bc != 3 || bh != h || bw != w {
		panic(fmt.Sprintf("data.BlendDifference: backgrounds %s do not match images %s: want (%d,3,%d,%d)",
			tensor.FormatShape(backgrounds.Shape()), tensor.FormatShape(x.Shape()), n, h, w))
	}
	src, bg := x.Data(), backgrounds.Data()
	plane := h * w
	out := make([]float32, n*3*plane)
	for img := range n {
		for ch := range 3 {
			xs := src[(img*c+min(ch, c-1))*plane:]
			bs := bg[(img*3+ch)*plane:]
			o := out[(img*3+ch)*plane : (img*3+ch+1)*plane]
			for p := range o {
				d := bs[p] - xs[p]
				if d < 0 {
					d = -d
				}
				o[p] = d
			}
		}
	}
	return tensor.Wrap(out, n, 3, h, w)
}

// TextureBrightness scales the textures BlendBackground blends with to
// [0, TextureBrightness]. Photo patches, which MNIST-M blends with, are mostly
// darker than mid-grey, so a digit's strokes, inverted by the blend, stand
// out brighter than their background, as MNIST's do. At 0.45 a LeNet-5
// trained on MNIST alone scores about 54% on the blended MNIST test digits,
// close to the 52% the DANN paper (Ganin et al., 2016) reports for a
// source-only model on the real MNIST-M; with full-range textures the digit
// is darker than its background half the time and the same model scores
// below chance (9%).
const TextureBrightness = 0.45

// BlendBackground makes an MNIST-M-like target offline: each image of x
// ((N, 1, H, W) or (N, 3, H, W), values in [0, 1]) is blended with its own
// procedural colour texture (ColourTextures(N, H, W, seed) scaled by
// TextureBrightness) as |texture − image| per channel, giving (N, 3, H, W)
// colour images.
func BlendBackground(x *tensor.Tensor, seed uint64) *tensor.Tensor {
	n, _, h, w := images("BlendBackground", x)
	return BlendDifference(x, ColourTextures(n, h, w, seed).Scale(TextureBrightness))
}

// Normalize returns (x − mean[c]) / std[c] for each channel c along axis 1
// of x (rank 2 or more: (N, C) features or (N, C, H, W) images). mean and
// std hold one value per channel, or one value for all. It panics on a
// length mismatch or a std that is not positive.
func Normalize(x *tensor.Tensor, mean, std []float64) *tensor.Tensor {
	if x == nil || x.Dims() < 2 {
		shape := "nil"
		if x != nil {
			shape = tensor.FormatShape(x.Shape())
		}
		panic(fmt.Sprintf("data.Normalize: input %s needs a channel axis 1", shape))
	}
	c := x.Dim(1)
	for _, p := range []struct {
		name string
		v    []float64
	}{{"mean", mean}, {"std", std}} {
		if len(p.v) != c && len(p.v) != 1 {
			panic(fmt.Sprintf("data.Normalize: %d %s values for %d channels of %s", len(p.v), p.name, c, tensor.FormatShape(x.Shape())))
		}
	}
	for _, s := range std {
		if !(s > 0) {
			panic(fmt.Sprintf("data.Normalize: std %v is not positive", s))
		}
	}
	pick := func(v []float64, ch int) float64 { return v[min(ch, len(v)-1)] }
	src := x.Data()
	out := make([]float32, len(src))
	inner := 1
	for _, d := range x.Shape()[2:] {
		inner *= d
	}
	for i := range x.Dim(0) {
		for ch := range c {
			m, s := pick(mean, ch), pick(std, ch)
			base := (i*c + ch) * inner
			for k := base; k < base+inner; k++ {
				out[k] = float32((float64(src[k]) - m) / s)
			}
		}
	}
	return tensor.Wrap(out, x.Shape()...)
}

// Standardizer holds per-feature means and standard deviations fitted on
// one set, to standardise others the same way (fit on a source domain,
// apply to source and target). A feature is one position of an example:
// all axes after the first, flattened.
type Standardizer struct {
	Mean, Std []float64 // one per feature; a Std of 0 is stored as 1
}

// FitStandardizer returns the per-feature mean and (population) standard
// deviation of the rows of x. Features that are constant get a Std of 1,
// so they standardise to 0. It panics if x has no rows.
func FitStandardizer(x *tensor.Tensor) *Standardizer {
	if x == nil || x.Dims() == 0 || x.Dim(0) == 0 {
		panic("data.FitStandardizer: no rows to fit on")
	}
	n := x.Dim(0)
	d := x.Len() / n
	src := x.Data()
	s := &Standardizer{Mean: make([]float64, d), Std: make([]float64, d)}
	for i := range n {
		for j, v := range src[i*d : (i+1)*d] {
			s.Mean[j] += float64(v)
		}
	}
	for j := range s.Mean {
		s.Mean[j] /= float64(n)
	}
	for i := range n {
		for j, v := range src[i*d : (i+1)*d] {
			e := float64(v) - s.Mean[j]
			s.Std[j] += e * e
		}
	}
	for j := range s.Std {
		s.Std[j] = math.Sqrt(s.Std[j] / float64(n))
		if s.Std[j] == 0 {
			s.Std[j] = 1
		}
	}
	return s
}

// Apply returns (x − Mean) / Std feature by feature, x shaped like the
// data the standardiser was fitted on (any number of rows). It panics if
// the rows of x have a different number of features.
func (s *Standardizer) Apply(x *tensor.Tensor) *tensor.Tensor {
	d := len(s.Mean)
	if x == nil || x.Dims() == 0 || (x.Dim(0) > 0 && x.Len()/x.Dim(0) != d) || (x.Dim(0) == 0 && x.Len() != 0) {
		shape := "nil"
		if x != nil {
			shape = tensor.FormatShape(x.Shape())
		}
		panic(fmt.Sprintf("data.Standardizer.Apply: input %s does not have %d features per row", shape, d))
	}
	src := x.Data()
	out := make([]float32, len(src))
	for k, v := range src {
		j := k % d
		out[k] = float32((float64(v) - s.Mean[j]) / s.Std[j])
	}
	return tensor.Wrap(out, x.Shape()...)
}

// Standardize returns x standardised feature by feature with the means
// and standard deviations of fit (FitStandardizer(fit).Apply(x)).
func Standardize(fit, x *tensor.Tensor) *tensor.Tensor {
	return FitStandardizer(fit).Apply(x)
}
