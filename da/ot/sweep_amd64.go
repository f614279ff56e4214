//go:build amd64 && !purego

package ot

import "github.com/graftml/graft/internal/cpu"

// useAVX2 says that this CPU (and its OS) runs AVX2 and FMA code, which the
// Sinkhorn sweeps then use; the build tag purego turns them off.
var useAVX2 = cpu.AVX2FMA

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
