// Package vexp computes float32 exponentials, and maxima, of whole slices
// for the row-wise kernels of package tensor (softmax, cross-entropy,
// sigmoid): in AVX2+FMA assembly where the CPU runs it (about 20 times
// faster than math.Exp per element), in portable Go elsewhere (about twice
// as fast), within 2 ulp of the exact float32 result over the whole range.
package vexp

import "math"

// Range reduction writes x = n·ln2 + r with n = round(x/ln2) and |r| ≤ ln2/2
// (a little more, as x/ln2 is rounded in float32), so exp(x) = 2ⁿ·exp(r).
// ln2 is split Cody–Waite style into ln2Hi, which has 9 significant bits so
// that n·ln2Hi is exact for |n| < 2¹⁵, and the remainder ln2Lo.
const (
	log2e = 1.44269504088896341
	ln2Hi = 0.693359375
	ln2Lo = -2.12194440e-4
	// round is 1.5·2²³: adding it to a float32 of magnitude below 2²² rounds
	// that to an integer held in the low mantissa bits.
	round = 12582912
	// minArg and maxArg bound the argument: exp(−110) is far below the least
	// float32 denormal, exp(89) above the greatest float32, so clamping keeps
	// n in the range of the two-step scaling without changing the result.
	minArg = -110
	maxArg = 89
	// Below zeroBelow (a little under −150·ln2) exp rounds to 0, which is
	// written directly: computing it would underflow, which costs a
	// microcode assist per vector on some CPUs (masked attention scores are
	// −Inf).
	zeroBelow = -103.973
)

// exp(r) on |r| ≤ 0.347 is the degree-6 polynomial interpolating it at the
// Chebyshev nodes of that interval (relative error 2·10⁻⁹ before rounding the
// coefficients to float32, 2·10⁻⁸ after — a fifth of an ulp).
const (
	c2 = 0.5
	c3 = 0.166664138
	c4 = 0.0416663513
	c5 = 0.00837522931
	c6 = 0.00139412377
)

// ExpSum sets dst[i] = exp(src[i] − shift) for every i of src and returns the
// sum of those values accumulated in float64. dst must be at least as long as
// src and may be src itself. The difference src[i] − shift is rounded to
// float32 first. exp(−Inf) is 0, exp(+Inf) is +Inf, NaN gives NaN, results
// beyond the float32 range are +Inf and results below it are 0; denormal
// results are exact to within an ulp.
func ExpSum(dst, src []float32, shift float32) float64 {
	dst = dst[:len(src)]
	var s float64
	if useAsm && len(src) >= 8 {
		n := len(src) &^ 7
		s = expSumAsm(&dst[0], &src[0], n, shift)
		dst, src = dst[n:], src[n:]
	}
	return s + expSumGo(dst, src, shift)
}

// expSumGo is ExpSum in portable Go, the computation written out in the
// loop (a function per element would not be inlined).
func expSumGo(dst, src []float32, shift float32) float64 {
	dst = dst[:len(src)]
	var s float64
	for i, x := range src {
		x -= shift
		if x < zeroBelow { // false for NaN, which goes on to give NaN
			dst[i] = 0
			continue
		}
		if x > maxArg {
			x = maxArg
		}
		t := x*log2e + round
		n := int32(math.Float32bits(t) - math.Float32bits(round))
		nf := t - round
		r := x - nf*ln2Hi
		r -= nf * ln2Lo
		p := ((((c6*r+c5)*r+c4)*r+c3)*r+c2)*r*r + r + 1
		// Scale by 2ⁿ in two steps, 2^⌊n/2⌋ then 2^(n−⌊n/2⌋), each a normal
		// float32 for n in [−159, 129]: the product rounds only once it
		// leaves the normal range, so denormal results are rounded correctly
		// and overflow gives +Inf.
		n1 := n >> 1
		e := p * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(n-n1+127)<<23)
		dst[i] = e
		s += float64(e)
	}
	return s
}

// ULPError returns |got − want| in units of the last place of the float32
// nearest to want (the least denormal's spacing below the normal range), for
// tests of float32 functions against float64 references: 0 when both are
// the same infinity or both NaN, +Inf when only one is infinite or NaN.
func ULPError(got float32, want float64) float64 {
	w32 := float32(want)
	gotNaN, wantNaN := got != got, want != want
	if gotNaN || wantNaN {
		if gotNaN && wantNaN {
			return 0
		}
		return math.Inf(1)
	}
	if math.IsInf(float64(w32), 0) || math.IsInf(float64(got), 0) {
		if float64(w32) == float64(got) {
			return 0
		}
		return math.Inf(1)
	}
	ulp := math.Float32frombits(math.Float32bits(float32(math.Abs(float64(w32))))+1) - float32(math.Abs(float64(w32)))
	ulp = max(ulp, math.Float32frombits(1))
	return math.Abs(float64(got)-want) / float64(ulp)
}
