//go:build !amd64 || purego

package ot

// useAVX2 is false: the Sinkhorn sweeps run in portable Go.
const useAVX2 = false

// dot4AVX is never called without AVX2.
func dot4AVX(k0, k1, k2, k3, v *float64, n int) (s0, s1, s2, s3 float64) {
	panic("ot: dot4AVX without AVX2")
}

// axpy4AVX is never called without AVX2.
func axpy4AVX(y *float64, u0, u1, u2, u3 float64, k0, k1, k2, k3 *float64, n int) {
	panic("ot: axpy4AVX without AVX2")
}
