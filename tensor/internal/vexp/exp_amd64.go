//go:build amd64 && !purego

package vexp

import "github.com/graftml/graft/internal/cpu"

// useAsm says that expSumAsm runs on this CPU.
var useAsm = cpu.AVX2FMA

// expSumAsm is ExpSum over n floats, n a positive multiple of 8, in AVX2+FMA.
//
//go:noescape
func expSumAsm(dst, src *float32, n int, shift float32) float64

// maxAsm is Max over n floats, n a positive multiple of 8, in AVX.
//
//go:noescape
func maxAsm(x *float32, n int) float32
