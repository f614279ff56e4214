//go:build !amd64 || purego

// Package avx2 holds the native GEMM backend's AVX2+FMA micro-kernel in Go
// assembly; on other architectures and under the "purego" tag it is absent.
package avx2

// Available is false: there is no assembly kernel in this build.
const Available = false

// Kernel6x16 is never called when Available is false; it does nothing.
func Kernel6x16(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32) {}

// Kernel6x16RowA is never called when Available is false; it does nothing.
func Kernel6x16RowA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32) {
}

// Transpose8 is never called when Available is false; it does nothing.
func Transpose8(dst, src *float32, ld, n int) {}

// Copy16 is never called when Available is false; it does nothing.
func Copy16(dst, src *float32, ld, n int) {}

// Kernel4x16 is never called when Available is false; it does nothing.
func Kernel4x16(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32) {}

// CopyPanels is never called when Available is false; it does nothing.
func CopyPanels(dst, src *float32, ld, n, panels int) {}

// Epilogue16 is never called when Available is false; it does nothing.
func Epilogue16(c *float32, ldc, rows int, bias *float32, relu bool) {}
