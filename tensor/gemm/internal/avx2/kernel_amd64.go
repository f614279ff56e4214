//go:build amd64 && !purego

// Package avx2 holds the native GEMM backend's AVX2+FMA micro-kernel in Go
// assembly. It is a package of its own because package gemm uses cgo under
// the "openblas" tag, and a cgo package cannot hold Go assembly.
package avx2

import "github.com/graftml/graft/internal/cpu"

// Available says that this CPU (and its OS) runs AVX2 and FMA code.
var Available = cpu.AVX2FMA

// Kernel6x16 computes the 6×16 tile C = alpha·A·B + beta·C over k steps from
// a packed A panel (6 floats per step) and B rows of 16 floats ldb floats
// apart (ldb = 16 for a packed B panel); C has row stride ldc floats. With
// beta == ±0 it does not read C. The caller guarantees that all regions are
// in bounds and that Available is true.
//
//go:noescape
func Kernel6x16(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// Kernel6x16RowA is Kernel6x16 with A read in place: six rows of k floats,
// lda floats apart.
//
//go:noescape
func Kernel6x16RowA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// Transpose8 sets dst[p*16+j] = src[j*ld+p] for p in [0, n) and j in
// [0, 8): it packs eight rows of a transposed matrix into half of a 16-wide
// panel. n is a multiple of 8; the caller guarantees bounds and Available.
//
//go:noescape
func Transpose8(dst, src *float32, ld, n int)

// Copy16 sets dst[p*16+j] = src[p*ld+j] for p in [0, n) and j in [0, 16):
// it packs a B panel from 16-float rows ld floats apart, prefetching ahead.
// The caller guarantees bounds and Available.
//
//go:noescape
func Copy16(dst, src *float32, ld, n int)

// Kernel4x16 is Kernel6x16 for the first four rows of a packed A panel
// (still 6 floats per step): C is 4×16.
//
//go:noescape
func Kernel4x16(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// CopyPanels packs `panels` adjacent B panels at once: dst[q*n*16+p*16+j] =
// src[p*ld+q*16+j] for q in [0, panels), p in [0, n), j in [0, 16), reading
// each row of src across the panels (for row strides that make one panel's
// rows share cache sets). The caller guarantees bounds and Available.
//
//go:noescape
func CopyPanels(dst, src *float32, ld, n, panels int)

// Epilogue16 applies a GEMM epilogue to rows rows of 16 floats ldc floats
// apart: adds the 16 floats at bias to each row unless bias is nil, then,
// with relu, clears every value whose sign bit is set (max(0, ·), −0 and
// NaNs with the sign bit giving +0). The caller guarantees bounds and
// Available.
//
//go:noescape
func Epilogue16(c *float32, ldc, rows int, bias *float32, relu bool)
