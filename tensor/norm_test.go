package tensor

import (
	"math"
	"testing"
)

// normRefRows normalises each row of xs (float64, two-pass) to zero mean and
// unit biased variance.
func normRefRows(xs []float32, rows, d int, eps float64) []float64 {
	out := make([]float64, rows*d)
	for r := 0; r < rows; r++ {
		var m float64
		for j := 0; j < d; j++ {
			m += float64(xs[r*d+j])
		}
		m /= float64(d)
		var v float64
		for j := 0; j < d; j++ {
			v += (float64(xs[r*d+j]) - m) * (float64(xs[r*d+j]) - m)
		}
		v /= float64(d)
		for j := 0; j < d; j++ {
			out[r*d+j] = (float64(xs[r*d+j]) - m) / math.Sqrt(v+eps)
		}
	}
	return out
}

func TestLayerNormValues(t *testing.T) {
	x := New([]float32{1, 2, 3, 4, -2, 0, 0, 2}, 2, 4)
	// Row 1: mean 2.5, variance 1.25; row 2: mean 0, variance 2.
	s1, s2 := float32(math.Sqrt(1.25)), float32(math.Sqrt(2))
	plain := []float32{-1.5 / s1, -0.5 / s1, 0.5 / s1, 1.5 / s1, -2 / s2, 0, 0, 2 / s2}
	assertClose(t, "plain", LayerNorm(x, nil, nil, 1, 0), plain, []int{2, 4}, 1e-6)
	w, b := New([]float32{1, 2, 0.5, -1}, 4), New([]float32{0, 1, 0, 0.5}, 4)
	affine := make([]float32, 8)
	for i, v := range plain {
		affine[i] = v*w.data[i%4] + b.data[i%4]
	}
	assertClose(t, "affine", LayerNorm(x, w, b, 1, 0), affine, []int{2, 4}, 1e-6)
	onlyBias := make([]float32, 8)
	for i, v := range plain {
		onlyBias[i] = v + b.data[i%4]
	}
	assertClose(t, "bias only", LayerNorm(x, nil, b, 1, 0), onlyBias, []int{2, 4}, 1e-6)
	// normDims 2 over the whole (2,4): mean 1.25.
	all := normRefRows(x.data, 1, 8, 1e-5)
	assertClose(t, "normDims 2", LayerNorm(x, nil, nil, 2, 1e-5), toF32(all), []int{2, 4}, 1e-6)
	// eps matters for a constant row: (x−m)/√(0+eps) = 0.
	assertClose(t, "constant row", LayerNorm(Full(3, 1, 5), nil, nil, 1, 1e-5), make([]float32, 5), []int{1, 5}, 0)
}

func TestLayerNormMatchesReference(t *testing.T) {
	for _, c := range []struct {
		name     string
		shape    []int
		normDims int
		offset   float32
	}{
		{"rows", []int{6, 10}, 1, 0},
		{"3-D over last axis", []int{2, 3, 8}, 1, 0},
		{"3-D over last two axes", []int{2, 3, 8}, 2, 0},
		{"large offset (float64 statistics)", []int{4, 64}, 1, 1000},
		{"long rows (parallel path)", []int{64, 1024}, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := seq(c.shape...).AddScalar(c.offset).Detach()
			nd := len(c.shape)
			ns := c.shape[nd-c.normDims:]
			w, b := positive(ns...).Detach(), seq(ns...).Scale(0.5).Detach()
			d := len(w.data)
			ref := normRefRows(x.data, len(x.data)/d, d, 1e-5)
			for i := range ref {
				ref[i] = ref[i]*float64(w.data[i%d]) + float64(b.data[i%d])
			}
			assertClose(t, c.name, LayerNorm(x, w, b, c.normDims, 1e-5), toF32(ref), c.shape, 2e-5)
		})
	}
}

func TestRMSNormValues(t *testing.T) {
	x := New([]float32{1, 2, 3, 4, 0, -3, 4, 0}, 2, 4)
	// Mean squares: 7.5 and 6.25.
	r1, r2 := float32(math.Sqrt(7.5+1e-6)), float32(math.Sqrt(6.25+1e-6))
	want := []float32{1 / r1, 2 / r1, 3 / r1, 4 / r1, 0, -3 / r2, 4 / r2, 0}
	assertClose(t, "plain", RMSNorm(x, nil, 1e-6), want, []int{2, 4}, 1e-6)
	w := New([]float32{2, 1, 0.5, -1}, 4)
	for i := range want {
		want[i] *= w.data[i%4]
	}
	assertClose(t, "weighted", RMSNorm(x, w, 1e-6), want, []int{2, 4}, 1e-6)
	assertClose(t, "zero row uses eps", RMSNorm(Zeros(1, 3), nil, 1e-6), []float32{0, 0, 0}, []int{1, 3}, 0)
}

func TestBatchNormRunningStats(t *testing.T) {
	rm, rv := Zeros(2), Ones(2)
	w, b := New([]float32{2, 0.5}, 2), New([]float32{0.1, -0.2}, 2)
	const eps = 1e-5
	// Step 1: channel 0 = 1,3,5,7 (mean 4, biased var 5, unbiased 20/3);
	// channel 1 = 2,4,6,8 (mean 5, same variances).
	x1 := New([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 4, 2)
	y1 := BatchNorm(x1, rm, rv, w, b, true, 0.1, eps)
	want := make([]float32, 8)
	for i, v := range x1.data {
		ch := i % 2
		mean := []float64{4, 5}[ch]
		want[i] = float32((float64(v)-mean)/math.Sqrt(5+eps))*w.data[ch] + b.data[ch]
	}
	assertClose(t, "training output", y1, want, []int{4, 2}, 1e-6)
	assertClose(t, "running mean after 1", rm, []float32{0.4, 0.5}, []int{2}, 1e-6)
	assertClose(t, "running var after 1", rv, []float32{0.9 + 0.1*20.0/3, 0.9 + 0.1*20.0/3}, []int{2}, 1e-6)
	// Step 2: channel 0 = 0,2,4,10 (mean 4, Σd² 56, unbiased 56/3); channel 1 constant 10.
	x2 := New([]float32{0, 10, 2, 10, 4, 10, 10, 10}, 4, 2)
	y2 := BatchNorm(x2, rm, rv, w, b, true, 0.1, eps)
	assertClose(t, "running mean after 2", rm, []float32{0.9*0.4 + 0.4, 0.9*0.5 + 1}, []int{2}, 1e-6)
	rv2 := 0.9*(0.9+0.1*20.0/3) + 0.1*56.0/3
	assertClose(t, "running var after 2", rv, []float32{float32(rv2), float32(0.9 * (0.9 + 0.1*20.0/3))}, []int{2}, 1e-6)
	// A constant channel normalises to 0 (then + bias).
	if v := y2.At(3, 1); math.Abs(float64(v+0.2)) > 1e-6 {
		t.Fatalf("constant channel: %v, want -0.2", v)
	}
	// Evaluation uses the running statistics and leaves them unchanged.
	xe := New([]float32{1, 2, -1, 3}, 2, 2)
	ye := BatchNorm(xe, rm, rv, w, b, false, 0.1, eps)
	for i, v := range xe.data {
		ch := i % 2
		want[i] = (v-rm.data[ch])/float32(math.Sqrt(float64(rv.data[ch])+eps))*w.data[ch] + b.data[ch]
	}
	assertClose(t, "eval output", ye, want[:4], []int{2, 2}, 1e-6)
	assertClose(t, "running mean unchanged by eval", rm, []float32{0.76, 1.45}, []int{2}, 1e-6)
	// Momentum 1 replaces the running statistics with the batch's.
	rm1, rv1 := Zeros(2), Zeros(2)
	BatchNorm(x1, rm1, rv1, nil, nil, true, 1, eps)
	assertClose(t, "momentum 1", rv1, []float32{20.0 / 3, 20.0 / 3}, []int{2}, 1e-6)
}

func TestBatchNormMatchesReference(t *testing.T) {
	for _, shape := range [][]int{{5, 3}, {4, 3, 6}, {2, 3, 4, 5}, {2, 2, 3, 2, 2}} {
		x := seq(shape...).Detach()
		n, c := shape[0], shape[1]
		s := len(x.data) / (n * c)
		// Gather each channel into a row, normalise, scatter back.
		rows := make([]float32, len(x.data))
		for i := 0; i < n; i++ {
			for ch := 0; ch < c; ch++ {
				copy(rows[ch*n*s+i*s:ch*n*s+(i+1)*s], x.data[(i*c+ch)*s:(i*c+ch+1)*s])
			}
		}
		ref := normRefRows(rows, c, n*s, 1e-5)
		w, b := positive(c).Detach(), seq(c).Detach()
		want := make([]float32, len(x.data))
		for i := 0; i < n; i++ {
			for ch := 0; ch < c; ch++ {
				for j := 0; j < s; j++ {
					want[(i*c+ch)*s+j] = float32(ref[ch*n*s+i*s+j]*float64(w.data[ch]) + float64(b.data[ch]))
				}
			}
		}
		assertClose(t, FormatShape(shape), BatchNorm(x, nil, nil, w, b, true, 0.1, 1e-5), want, shape, 1e-5)
	}
}

func TestGroupNormMatchesReference(t *testing.T) {
	x := seq(2, 6, 3, 2).Detach()
	w, b := positive(6).Detach(), seq(6).Detach()
	for _, groups := range []int{1, 2, 3, 6} {
		ref := normRefRows(x.data, 2*groups, len(x.data)/(2*groups), 1e-5)
		want := make([]float32, len(ref))
		for i, v := range ref {
			ch := i / 6 % 6
			want[i] = float32(v*float64(w.data[ch]) + float64(b.data[ch]))
		}
		assertClose(t, "group norm", GroupNorm(x, w, b, groups, 1e-5), want, []int{2, 6, 3, 2}, 1e-5)
	}
	// One group is layer norm over (C,H,W) without affine.
	ln := LayerNorm(x, nil, nil, 3, 1e-5)
	assertClose(t, "groups 1 = layer norm", GroupNorm(x, nil, nil, 1, 1e-5), ln.data, []int{2, 6, 3, 2}, 1e-6)
}

func TestGradientsNorm(t *testing.T) {
	ln := func(normDims int) func(in ...*Tensor) *Tensor {
		return func(in ...*Tensor) *Tensor {
			var w, b *Tensor
			if len(in) > 1 {
				w = in[1]
			}
			if len(in) > 2 {
				b = in[2]
			}
			return LayerNorm(in[0], w, b, normDims, 1e-5)
		}
	}
	bn := func(training bool) func(in ...*Tensor) *Tensor {
		return func(in ...*Tensor) *Tensor {
			c := in[0].shape[1]
			var w, b *Tensor
			if len(in) > 1 {
				w, b = in[1], in[2]
			}
			rm, rv := seq(c).Scale(0.2).Detach(), positive(c).Detach()
			return BatchNorm(in[0], rm, rv, w, b, training, 0.1, 1e-5)
		}
	}
	runGradCases(t, []gradCase{
		{"layer norm plain", []*Tensor{seq(3, 5)}, ln(1)},
		{"layer norm affine", []*Tensor{seq(3, 5), positive(5), seq(5)}, ln(1)},
		{"layer norm weight only", []*Tensor{seq(2, 3, 4), positive(4)}, ln(1)},
		{"layer norm normDims 2 affine", []*Tensor{seq(2, 3, 4), positive(3, 4), seq(3, 4)}, ln(2)},
		{"layer norm normDims 2 plain", []*Tensor{seq(2, 3, 4)}, ln(2)},
		{"layer norm bias without x grad", []*Tensor{seq(3, 4).SetRequiresGrad(false), positive(4), seq(4)}, ln(1)},
		{"rms norm", []*Tensor{seq(3, 6), positive(6)}, func(in ...*Tensor) *Tensor { return RMSNorm(in[0], in[1], 1e-6) }},
		{"rms norm no weight", []*Tensor{seq(2, 2, 5)}, func(in ...*Tensor) *Tensor { return RMSNorm(in[0], nil, 1e-6) }},
		{"batch norm training 2-D", []*Tensor{seq(5, 3), positive(3), seq(3)}, bn(true)},
		{"batch norm training 3-D", []*Tensor{seq(3, 2, 4), positive(2), seq(2)}, bn(true)},
		{"batch norm training 4-D", []*Tensor{seq(2, 3, 3, 2), positive(3), seq(3)}, bn(true)},
		{"batch norm training no affine", []*Tensor{seq(2, 3, 2, 2)}, bn(true)},
		{"batch norm eval 2-D", []*Tensor{seq(5, 3), positive(3), seq(3)}, bn(false)},
		{"batch norm eval 4-D", []*Tensor{seq(2, 3, 3, 2), positive(3), seq(3)}, bn(false)},
		{"group norm", []*Tensor{seq(2, 6, 2, 2), positive(6), seq(6)}, func(in ...*Tensor) *Tensor { return GroupNorm(in[0], in[1], in[2], 3, 1e-5) }},
		{"group norm 3-D no affine", []*Tensor{seq(2, 4, 5)}, func(in ...*Tensor) *Tensor { return GroupNorm(in[0], nil, nil, 2, 1e-5) }},
		{"group norm per channel", []*Tensor{seq(2, 3, 4), positive(3), seq(3)}, func(in ...*Tensor) *Tensor { return GroupNorm(in[0], in[1], in[2], 3, 1e-5) }},
	})
}

func TestNormErrors(t *testing.T) {
	cases := []struct {
		want string
		f    func()
	}{
		{"layer_norm: weight (4) does not match shape (3,4) expected for input (2,3,4)",
			func() { LayerNorm(Zeros(2, 3, 4), Zeros(4), nil, 2, 1e-5) }},
		{"layer_norm: cannot normalise the last 3 axes of input (2,4)",
			func() { LayerNorm(Zeros(2, 4), nil, nil, 3, 1e-5) }},
		{"rms_norm: weight (3) does not match shape (4) expected for input (2,4)",
			func() { RMSNorm(Zeros(2, 4), Zeros(3), 1e-6) }},
		{"batch_norm: expected more than 1 value per channel when training, got input (1,3)",
			func() { BatchNorm(Zeros(1, 3), nil, nil, nil, nil, true, 0.1, 1e-5) }},
		{"batch_norm: expected more than 1 value per channel when training, got input (1,3,1,1)",
			func() { BatchNorm(Zeros(1, 3, 1, 1), nil, nil, nil, nil, true, 0.1, 1e-5) }},
		{"batch_norm: running_mean (4) does not match shape (3) expected for input (2,3)",
			func() { BatchNorm(Zeros(2, 3), Zeros(4), Ones(3), nil, nil, true, 0.1, 1e-5) }},
		{"batch_norm: running_mean and running_var are required in evaluation mode",
			func() { BatchNorm(Zeros(2, 3), nil, nil, nil, nil, false, 0.1, 1e-5) }},
		{"batch_norm: input (3) must have a batch and a channel axis",
			func() { BatchNorm(Zeros(3), nil, nil, nil, nil, true, 0.1, 1e-5) }},
		{"group_norm: input (2,6,4) has 6 channels, which groups 4 does not divide",
			func() { GroupNorm(Zeros(2, 6, 4), nil, nil, 4, 1e-5) }},
		{"group_norm: weight (3) does not match shape (6) expected for input (2,6,4)",
			func() { GroupNorm(Zeros(2, 6, 4), Zeros(3), nil, 2, 1e-5) }},
	}
	for _, c := range cases {
		expectPanic(t, c.want, c.f)
	}
	// Training with one sample but several positions per channel is allowed.
	BatchNorm(seq(1, 2, 3), nil, nil, nil, nil, true, 0.1, 1e-5)
}

func TestNormParallelMatchesSerial(t *testing.T) {
	checkParallelMatchesSerial(t, "layer", func(in ...*Tensor) *Tensor { return LayerNorm(in[0], in[1], in[2], 1, 1e-5) },
		seq(96, 1024), positive(1024), seq(1024))
	checkParallelMatchesSerial(t, "rms", func(in ...*Tensor) *Tensor { return RMSNorm(in[0], in[1], 1e-6) },
		seq(96, 1024), positive(1024))
	checkParallelMatchesSerial(t, "batch", func(in ...*Tensor) *Tensor {
		return BatchNorm(in[0], nil, nil, in[1], in[2], true, 0.1, 1e-5)
	}, seq(32, 8, 16, 18), positive(8), seq(8))
	checkParallelMatchesSerial(t, "group", func(in ...*Tensor) *Tensor { return GroupNorm(in[0], in[1], in[2], 4, 1e-5) },
		seq(32, 8, 16, 18), positive(8), seq(8))
}

// TestLayerNormLargeMeanSmallSpread checks rows of mean 1000 and standard
// deviation 0.01 (statistics that cancel badly in float32), forward and
// backward with weight and bias, against float64: outputs within
// 2⁻²⁰·(1 + |y|), gradients within 2⁻¹⁸ of the largest of their kind.
func TestLayerNormLargeMeanSmallSpread(t *testing.T) {
	const rows, d, eps = 3, 256, 1e-5
	r := NewRNG(21)
	x := Normal(r, 1000, 0.01, rows, d).SetRequiresGrad(true)
	w := Normal(r, 1, 0.5, d).SetRequiresGrad(true)
	b := Normal(r, 0, 1, d).SetRequiresGrad(true)
	g := Normal(r, 0, 1, rows, d)
	y := LayerNorm(x, w, b, 1, eps)
	y.BackwardWith(g)
	xh := normRefRows(x.data, rows, d, eps)
	refGx := make([]float64, rows*d)
	refGw, refGb := make([]float64, d), make([]float64, d)
	for row := 0; row < rows; row++ {
		var m, v float64
		for j := 0; j < d; j++ {
			m += float64(x.data[row*d+j])
		}
		m /= d
		for j := 0; j < d; j++ {
			v += (float64(x.data[row*d+j]) - m) * (float64(x.data[row*d+j]) - m)
		}
		rs := 1 / math.Sqrt(v/d+eps)
		var sa, sb float64
		for j := 0; j < d; j++ {
			i := row*d + j
			dxh := float64(g.data[i]) * float64(w.data[j])
			sa += dxh
			sb += dxh * xh[i]
			refGw[j] += float64(g.data[i]) * xh[i]
			refGb[j] += float64(g.data[i])
		}
		for j := 0; j < d; j++ {
			i := row*d + j
			refGx[i] = rs * (float64(g.data[i])*float64(w.data[j]) - sa/d - xh[i]*sb/d)
		}
	}
	for i, v := range y.data {
		want := xh[i]*float64(w.data[i%d]) + float64(b.data[i%d])
		if math.Abs(float64(v)-want) > 0x1p-20*(1+math.Abs(want)) {
			t.Fatalf("y[%d] = %v, want %v", i, v, want)
		}
	}
	for _, c := range []struct {
		name string
		got  []float32
		want []float64
	}{{"dx", x.grad, refGx}, {"dweight", w.grad, refGw}, {"dbias", b.grad, refGb}} {
		var scale, worst float64
		for _, v := range c.want {
			scale = max(scale, math.Abs(v))
		}
		for i, v := range c.got {
			worst = max(worst, math.Abs(float64(v)-c.want[i])/scale)
		}
		t.Logf("%s: worst error %.3g of the largest (%.3g)", c.name, worst, scale)
		if worst > 0x1p-18 {
			t.Errorf("%s: error %.3g of the largest gradient, want ≤ 2⁻¹⁸", c.name, worst)
		}
	}
}
