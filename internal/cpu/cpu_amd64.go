// Package cpu tells which instruction-set extensions this machine runs, for
// the packages that hold assembly kernels (tensor/gemm's micro-kernels,
// da/ot's Sinkhorn sweeps).
package cpu

// AVX2FMA says that this CPU runs AVX2 and FMA instructions and its OS
// saves the YMM registers.
var AVX2FMA = hasAVX2FMA()

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
