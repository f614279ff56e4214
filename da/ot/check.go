package ot

import (
	"fmt"
	"math"
)

// massTolerance is the relative difference allowed between the total masses
// of two marginals that must balance.
const massTolerance = 1e-6

// checkMarginal reports an error unless w is a usable weight vector of
// length n for the argument named what: finite, non-negative, positive sum.
func checkMarginal(what string, w []float64, n int) error {
	if len(w) != n {
		return fmt.Errorf("ot: %s has %d weights, the cost matrix has %d on that side", what, len(w), n)
	}
	sum := 0.0
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("ot: %s[%d] is %v", what, i, v)
		}
		if v < 0 {
			return fmt.Errorf("ot: %s[%d] = %g is negative; weights must be non-negative", what, i, v)
		}
		sum += v
	}
	if sum <= 0 {
		return fmt.Errorf("ot: %s sums to %g; it needs positive mass", what, sum)
	}
	return nil
}

// checkBalanced reports an error unless a and b carry the same total mass
// (within massTolerance, relative), as balanced OT requires.
func checkBalanced(a, b []float64) error {
	sa, sb := sum(a), sum(b)
	if math.Abs(sa-sb) > massTolerance*math.Max(sa, sb) {
		return fmt.Errorf("ot: the marginals carry different masses, a sums to %.10g and b to %.10g; balanced OT needs equal masses (normalise them, or use the unbalanced or partial solvers)", sa, sb)
	}
	return nil
}

// checkCost reports an error unless M is an n×m matrix of finite values.
func checkCost(what string, M *Matrix, n, m int) error {
	if M == nil {
		return fmt.Errorf("ot: %s is nil", what)
	}
	if M.Rows != n || M.Cols != m {
		return fmt.Errorf("ot: %s is %d×%d, the marginals need %d×%d", what, M.Rows, M.Cols, n, m)
	}
	for k, v := range M.Data {
		if v-v != 0 { // NaN or ±Inf: one comparison instead of two tests
			return fmt.Errorf("ot: %s[%d,%d] is %v; costs must be finite", what, k/M.Cols, k%M.Cols, v)
		}
	}
	return nil
}

// orUniform returns w, or the uniform weights on n points when w is empty:
// throughout the package, nil weights mean uniform.
func orUniform(w []float64, n int) []float64 {
	if len(w) == 0 {
		return Uniform(n)
	}
	return w
}

// sum returns the sum of w.
func sum(w []float64) float64 {
	s := 0.0
	for _, v := range w {
		s += v
	}
	return s
}
