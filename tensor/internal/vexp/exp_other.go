//go:build !amd64 || purego

package vexp

// useAsm is false: there is no assembly kernel in this build.
const useAsm = false

// expSumAsm is never called when useAsm is false.
func expSumAsm(dst, src *float32, n int, shift float32) float64 { return 0 }

// maxAsm is never called when useAsm is false.
func maxAsm(x *float32, n int) float32 { return 0 }
