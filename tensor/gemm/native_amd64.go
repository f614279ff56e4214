//go:build amd64 && !purego

package gemm

// nativeAVX2 says that this CPU (and its OS) runs AVX2 and FMA code.
var nativeAVX2 = hasAVX2FMA()

// bestKernel returns the AVX2+FMA micro-kernel where the CPU has it, else
// the portable one.
func bestKernel() microKernel {
	if nativeAVX2 {
		return kernelAVX2
	}
	return kernelGo
}

// kernelAVX2 is the assembly micro-kernel behind the microKernel signature.
func kernelAVX2(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	_ = a[k*nativeMR-1]
	_ = b[k*nativeNR-1]
	_ = c[(nativeMR-1)*ldc+nativeNR-1]
	kernel6x16AVX2(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// hasAVX2FMA reports AVX2 and FMA support with the YMM state enabled by the
// OS.
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

// kernel6x16AVX2 computes the 6×16 tile C = alpha·A·B + beta·C from a packed
// A panel (6 floats per step) and a packed B panel (16 floats per step) over
// k steps; C has row stride ldc floats. With beta == 0 it does not read C.
//
//go:noescape
func kernel6x16AVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)
