//go:build !amd64

// Package cpu tells which instruction-set extensions this machine runs, for
// the packages that hold assembly kernels (tensor/gemm's micro-kernels,
// da/ot's Sinkhorn sweeps).
package cpu

// AVX2FMA is false: AVX2 and FMA are amd64 extensions.
const AVX2FMA = false
