package tensor

import (
	"math"
	"strings"
	"testing"
)

// unfusedAttention is the same attention built from general ops: split the
// heads, scores, mask, softmax, weighted sum, merge the heads.
func unfusedAttention(q, k, v *Tensor, heads int, scale float32, mask *Tensor) (ctx, w *Tensor) {
	n, l, d := q.shape[0], q.shape[1], q.shape[2]
	split := func(x *Tensor) *Tensor { return x.Reshape(x.shape[0], x.shape[1], heads, d/heads).Permute(0, 2, 1, 3) }
	scores := split(q).MatMulT(split(k), false, true).Scale(scale)
	if mask != nil {
		scores = scores.Add(mask)
	}
	w = scores.Softmax(-1)
	return w.MatMul(split(v)).Permute(0, 2, 1, 3).Reshape(n, l, d), w
}

func attentionInputs(seed uint64, n, l, s, d int) (q, k, v *Tensor) {
	r := NewRNG(seed)
	return Randn(r, n, l, d).SetRequiresGrad(true), Randn(r, n, s, d).SetRequiresGrad(true), Randn(r, n, s, d).SetRequiresGrad(true)
}

func maxDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func TestFusedAttentionMatchesTheUnfusedOps(t *testing.T) {
	const n, l, s, heads, e = 3, 5, 7, 4, 6
	d := heads * e
	causal := Zeros(l, s)
	for i := 0; i < l; i++ {
		for j := i + 3; j < s; j++ {
			causal.data[i*s+j] = float32(math.Inf(-1))
		}
	}
	padding := Zeros(n, 1, 1, s)
	for j := 4; j < s; j++ {
		padding.data[1*s+j] = float32(math.Inf(-1))
	}
	perHead := Randn(NewRNG(9), n, heads, l, s)
	for _, tc := range []struct {
		name string
		mask *Tensor
	}{{"no mask", nil}, {"causal (L,S)", causal}, {"padding (N,1,1,S)", padding}, {"full (N,H,L,S)", perHead}} {
		r := NewRNG(5)
		pc, pw := Randn(r, n, l, d), Randn(r, n, heads, l, s)
		run := func(fused bool) (ctx, w *Tensor, grads [][]float32) {
			q, k, v := attentionInputs(2, n, l, s, d)
			scale := float32(1 / math.Sqrt(e))
			if fused {
				w = AttentionWeights(q, k, heads, scale, tc.mask)
				ctx = AttentionContext(w, v)
			} else {
				ctx, w = unfusedAttention(q, k, v, heads, scale, tc.mask)
			}
			// Both outputs carry gradient, as when a loss also uses the weights.
			ctx.Mul(pc).Sum().Add(w.Mul(pw).Sum()).Backward()
			return ctx, w, [][]float32{q.grad, k.grad, v.grad}
		}
		fc, fw, fg := run(true)
		uc, uw, ug := run(false)
		if !slicesEqualShape(fw, uw) || !slicesEqualShape(fc, uc) {
			t.Fatalf("%s: shapes %s %s, want %s %s", tc.name, FormatShape(fw.shape), FormatShape(fc.shape), FormatShape(uw.shape), FormatShape(uc.shape))
		}
		if dw, dc := maxDiff(fw.data, uw.data), maxDiff(fc.data, uc.data); dw > 1e-6 || dc > 1e-5 {
			t.Fatalf("%s: weights differ by %g, context by %g", tc.name, dw, dc)
		}
		for i, name := range []string{"q", "k", "v"} {
			if dg := maxDiff(fg[i], ug[i]); dg > 1e-4 {
				t.Fatalf("%s: gradient of %s differs by %g", tc.name, name, dg)
			}
		}
	}
}

func slicesEqualShape(a, b *Tensor) bool {
	if len(a.shape) != len(b.shape) {
		return false
	}
	for i := range a.shape {
		if a.shape[i] != b.shape[i] {
			return false
		}
	}
	return true
}

func TestFusedAttentionGradCheck(t *testing.T) {
	const n, l, s, heads = 2, 3, 4, 2
	q, k, v := attentionInputs(7, n, l, s, 6)
	mask := Randn(NewRNG(8), n, 1, l, s) // finite: every score differentiable
	attend := func(in ...*Tensor) *Tensor {
		return AttentionContext(AttentionWeights(in[0], in[1], heads, 0.7, mask), in[2])
	}
	if err := GradCheck(attend, []*Tensor{q, k, v}, GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
	// Self-attention: one tensor as query, key and value accumulates three gradients.
	self := func(in ...*Tensor) *Tensor {
		return AttentionContext(AttentionWeights(in[0], in[0], heads, 0.7, nil), in[0])
	}
	x, _, _ := attentionInputs(11, n, l, l, 6)
	if err := GradCheck(self, []*Tensor{x}, GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestFusedAttentionRejectsBadInput(t *testing.T) {
	q, k, _ := attentionInputs(1, 2, 3, 4, 6)
	for _, tc := range []struct {
		want string
		f    func()
	}{
		{"width 6 is not divisible by 4 heads", func() { AttentionWeights(q, k, 4, 1, nil) }},
		{"query (2,3,6) and key (2,3,5)", func() { AttentionWeights(q, Zeros(2, 3, 5), 2, 1, nil) }},
		{"mask (3,3) does not broadcast", func() { AttentionWeights(q, k, 2, 1, Zeros(3, 3)) }},
		{"requires gradients", func() { AttentionWeights(q, k, 2, 1, Zeros(3, 4).SetRequiresGrad(true)) }},
		{"values (2,5,6)", func() { AttentionContext(AttentionWeights(q, k, 2, 1, nil), Zeros(2, 5, 6)) }},
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tc.want) {
					t.Errorf("panic %q, want it to mention %q", msg, tc.want)
				}
			}()
			tc.f()
			t.Errorf("no panic, want one mentioning %q", tc.want)
		}()
	}
}
