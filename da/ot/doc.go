// Package ot is graft's optimal transport: exact and entropic solvers for
// the transport problem between two discrete distributions, their
// unbalanced and partial forms, Gromov-Wasserstein and co-optimal transport
// (COOT) between spaces that share no metric, and the barycentric mapping
// that moves source samples onto a target domain.
//
// Everything here is float64: these are numerical algorithms that users
// compare against POT, and POT's conventions are followed where they are
// the field's (sinkhorn2's value is ⟨P, M⟩; costs are not normalised unless
// asked). Matrices are row-major Matrix values; marginals are []float64,
// nil meaning uniform weights.
// Inputs are checked: a marginal that is negative, of the wrong length or
// (where the method needs it) not summing to the other's mass, a cost with
// NaN or ±Inf, give an error naming the argument and the value.
package ot
