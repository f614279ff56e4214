package ot

import "math/rand/v2"

// testRand draws seeded random inputs for the tests.
type testRand struct{ r *rand.Rand }

// newTestRand returns a generator seeded with seed.
func newTestRand(seed uint64) testRand { return testRand{rand.New(rand.NewPCG(seed, 7))} }

// matrix returns an n×d matrix of standard normal values.
func (t testRand) matrix(n, d int) *Matrix {
	m := Zeros(n, d)
	for i := range m.Data {
		m.Data[i] = t.r.NormFloat64()
	}
	return m
}

// weights returns n positive weights summing to 1.
func (t testRand) weights(n int) []float64 {
	w := make([]float64, n)
	s := 0.0
	for i := range w {
		w[i] = 0.1 + t.r.Float64()
		s += w[i]
	}
	for i := range w {
		w[i] /= s
	}
	return w
}
