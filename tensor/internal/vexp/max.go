package vexp

// Max returns the largest element of the non-empty x, or NaN if x holds a
// NaN (where a softmax must give NaN).
func Max(x []float32) float32 {
	m, rest := x[0], x[1:]
	if useAsm && len(x) >= 8 {
		n := len(x) &^ 7
		m, rest = maxAsm(&x[0], n), x[n:]
	}
	for _, v := range rest {
		if v > m || v != v { // once m is NaN it stays NaN
			m = v
		}
	}
	return m
}
