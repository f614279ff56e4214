//go:build !amd64 || purego

package gemm

// nativeAVX2 is false: the native backend runs its portable micro-kernel.
const nativeAVX2 = false

// bestKernel returns the portable micro-kernel.
func bestKernel() microKernel { return kernelGo }

// bestKernel4 returns nil: the portable kernel computes whole tiles.
func bestKernel4() microKernel { return nil }

// kernelAVX2 is never called without AVX2; it falls back to the portable
// kernel so that no path panics.
func kernelAVX2(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	kernelGo(k, a, lda, b, ldb, c, ldc, alpha, beta)
}

// transpose8 is never called without AVX2.
func transpose8(d, b []float32, ldb, n int) {}

// copy16 is never called without AVX2.
func copy16(d, b []float32, ldb, n int) {}

// copyPanels is never called without AVX2.
func copyPanels(d, b []float32, ldb, n, panels int) {}

// applyTile applies the epilogue to a tile of C rows×16 (columns j0… of C)
// at the start of c.
func (ep Epilogue) applyTile(c []float32, ldc, rows, j0 int) {
	ep.apply(c, ldc, rows, nativeNR, j0)
}
