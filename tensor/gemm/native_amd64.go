//go:build amd64 && !purego

package gemm

import "github.com/graftml/graft/tensor/gemm/internal/avx2"

// nativeAVX2 says that this CPU (and its OS) runs AVX2 and FMA code.
var nativeAVX2 = avx2.Available

// bestKernel returns the AVX2+FMA micro-kernel where the CPU has it, else
// the portable one.
func bestKernel() microKernel {
	if nativeAVX2 {
		return kernelAVX2
	}
	return kernelGo
}

// bestKernel4 returns the four-row AVX2+FMA kernel for the last rows of C,
// or nil without AVX2.
func bestKernel4() microKernel {
	if nativeAVX2 {
		return kernel4AVX2
	}
	return nil
}

// kernel4AVX2 computes the first four rows of a tile from a packed A panel
// (lda must be 0); C is 4×16.
func kernel4AVX2(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	_ = a[(k-1)*nativeMR+3]
	_ = b[(k-1)*ldb+nativeNR-1]
	_ = c[3*ldc+nativeNR-1]
	avx2.Kernel4x16(k, &a[0], &b[0], ldb, &c[0], ldc, alpha, beta)
}

// kernelAVX2 is the assembly micro-kernel behind the microKernel signature;
// the slice accesses below check that every region it touches is in bounds.
func kernelAVX2(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	_ = b[(k-1)*ldb+nativeNR-1]
	_ = c[(nativeMR-1)*ldc+nativeNR-1]
	if lda == 0 {
		_ = a[k*nativeMR-1]
		avx2.Kernel6x16(k, &a[0], &b[0], ldb, &c[0], ldc, alpha, beta)
		return
	}
	_ = a[(nativeMR-1)*lda+k-1]
	avx2.Kernel6x16RowA(k, &a[0], lda, &b[0], ldb, &c[0], ldc, alpha, beta)
}

// transpose8 packs eight transposed rows into half a B panel (see
// avx2.Transpose8); the caller has checked the bounds.
func transpose8(d, b []float32, ldb, n int) { avx2.Transpose8(&d[0], &b[0], ldb, n) }

// copy16 packs 16-float rows into a B panel (see avx2.Copy16); the caller
// has checked the bounds.
func copy16(d, b []float32, ldb, n int) { avx2.Copy16(&d[0], &b[0], ldb, n) }

// copyPanels packs adjacent B panels reading B row by row (see
// avx2.CopyPanels); the caller has checked the bounds.
func copyPanels(d, b []float32, ldb, n, panels int) { avx2.CopyPanels(&d[0], &b[0], ldb, n, panels) }

// applyTile applies the epilogue to a tile of C rows×16 (columns j0… of C)
// at the start of c.
func (ep Epilogue) applyTile(c []float32, ldc, rows, j0 int) {
	if !nativeAVX2 {
		ep.apply(c, ldc, rows, nativeNR, j0)
		return
	}
	_ = c[(rows-1)*ldc+nativeNR-1]
	var bias *float32
	if ep.Bias != nil {
		bias = &ep.Bias[j0 : j0+nativeNR][0]
	}
	avx2.Epilogue16(&c[0], ldc, rows, bias, ep.ReLU)
}
