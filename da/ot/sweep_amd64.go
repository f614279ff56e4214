//go:build amd64 && !purego

package ot

// useAVX2 says that this CPU (and its OS) runs AVX2 and FMA code, which the
// Sinkhorn sweeps then use; GRAFT_PUREGO-style forcing is the purego build
// tag.
var useAVX2 = hasAVX2FMA()

// hasAVX2FMA reports AVX2 and FMA support with the YMM state enabled by
// the OS.
func hasAVX2FMA() bool {
	_, _, c1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if c1&fma == 0 || c1&osxsave == 0 || c1&avx == 0 {
		return false
	}
	if xgetbv()&6 != 6 { // XMM and YMM state saved by the OS
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0 // AVX2
}

// cpuid executes CPUID with the given leaf and sub-leaf.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv returns the low half of XCR0.
func xgetbv() uint32

// dot4AVX returns the dot products of the n-entry rows at k0…k3 with v;
// n is a multiple of 4.
//
//go:noescape
func dot4AVX(k0, k1, k2, k3, v *float64, n int) (s0, s1, s2, s3 float64)

// axpy4AVX sets y += u0·k0 + u1·k1 + u2·k2 + u3·k3 over n entries; n is a
// multiple of 4.
//
//go:noescape
func axpy4AVX(y *float64, u0, u1, u2, u3 float64, k0, k1, k2, k3 *float64, n int)
