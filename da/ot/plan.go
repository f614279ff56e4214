package ot

// Plan is the result of a transport solver: the plan, its cost, and how the
// solver ended.
type Plan struct {
	// T is the transport plan (n×m): T_ij is the mass moved from source
	// point i to target point j.
	T *Matrix
	// Cost is the transport cost ⟨T, M⟩ (POT's sinkhorn2 and emd2 value);
	// solvers with a different objective say what they put here.
	Cost float64
	// Method names the solver, e.g. "emd" or "sinkhorn (log, ε=0.01)".
	Method string
	// Iterations is the number of iterations the solver ran.
	Iterations int
	// Converged is false when the solver stopped at its iteration limit
	// before meeting its tolerance; the plan is then the last iterate.
	Converged bool
	// MarginalError is the largest absolute violation of the marginal
	// constraints by T (for unbalanced and partial solvers, of the
	// constraints they keep).
	MarginalError float64
	// U and V are dual potentials (one per source and target point) for
	// solvers that have them, nil otherwise. For EMD they are the exact
	// duals: U_i + V_j ≤ M_ij, with equality where T_ij > 0, and
	// Σ a·U + Σ b·V = Cost. For the entropic solvers they are the
	// potentials of T_ij = a_i·b_j·exp((U_i + V_j − M_ij)/ε).
	U, V []float64
	// Objective is the regularised objective the solver minimised, for the
	// entropic solvers ⟨T, M⟩ + ε·Σ T_ij (log T_ij − 1), plus the marginal
	// penalties τ·KL(T1 | a) + τ·KL(Tᵀ1 | b) for the unbalanced ones.
	Objective float64
}
