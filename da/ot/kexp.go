package ot

import "math"

// exp2Table holds 2^(j/256) for j = 0 … 255.
var exp2Table = func() (t [256]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 256)
	}
	return
}()

const (
	expScale   = 256 / math.Ln2
	expLn2Hi   = 6.93147180369123816490e-01 / 256 // ln2/256 split in two
	expLn2Lo   = 1.90821492927058770002e-10 / 256
	expShifter = 6755399441055744.0 // 1.5·2^52: adding it rounds to an integer
)

// kexp is exp for building kernels, about 1.6× faster than math.Exp and
// within 1e-15 of it (relative): x = (256·k + j)·ln2/256 + r with
// |r| ≤ ln2/512, exp(x) = 2^k · 2^(j/256) (table) · exp(r) (degree-5
// polynomial). Results below 1e-307 flush to 0 (x < −708); x > 709 gives
// +Inf; NaN is not expected (inputs are checked).
func kexp(x float64) float64 {
	if x < -708 {
		return 0
	}
	if x > 709 {
		return math.Inf(1)
	}
	z := x*expScale + expShifter
	n := int64(math.Float64bits(z)) - int64(math.Float64bits(expShifter))
	fn := z - expShifter
	r := x - fn*expLn2Hi - fn*expLn2Lo
	p := 1 + r*(1+r*(0.5+r*(1.0/6+r*(1.0/24+r*(1.0/120)))))
	return math.Float64frombits(uint64(n>>8+1023)<<52) * exp2Table[n&255] * p
}
