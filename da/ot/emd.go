package ot

import (
	"fmt"
	"math"
)

// DefaultEMDMaxIter is the pivot limit EMD uses when EMDOptions.MaxIter is
// zero for small problems (POT's numItermax default); larger problems get
// 100 pivots per node (n+m) when that is more.
const DefaultEMDMaxIter = 100000

// EMDOptions configures EMD. The zero value is POT's ot.emd.
type EMDOptions struct {
	// MaxIter caps the number of simplex pivots; 0 means
	// max(DefaultEMDMaxIter, 100·(n+m)). At the cap EMD returns the last
	// basis with Converged false (POT's "numItermax reached" warning).
	MaxIter int
	// Normalize rescales a and b to total mass 1 each before solving, so
	// marginals of different masses are accepted. Without it the masses
	// must agree within a relative 1e-6 (b is then rescaled to a's mass,
	// as POT does) or EMD returns an error.
	Normalize bool
}

// EMD solves the exact (earth mover's) optimal transport problem
// min ⟨T, M⟩ over plans T ≥ 0 with row sums a and column sums b, by the
// network simplex on the transportation graph. nil or empty a or b means
// uniform weights. The result carries the plan, its cost ⟨T, M⟩, the
// number of pivots and the dual potentials U, V (Σ a·U + Σ b·V = Cost,
// U_i + V_j ≤ M_ij; centred as POT's center_dual: Σ a·U = Σ b·V).
func EMD(a, b []float64, M *Matrix, opt EMDOptions) (*Plan, error) {
	if M == nil {
		return nil, fmt.Errorf("ot: emd: cost matrix M is nil")
	}
	a, b, err := exactMarginals(a, b, M, opt.Normalize)
	if err != nil {
		return nil, err
	}
	s, converged, maxIter := runSimplex(a, b, M, opt.MaxIter)
	p := &Plan{T: s.plan(), Method: "emd (network simplex)", Iterations: s.pivots, Converged: converged}
	if !converged {
		p.Method += fmt.Sprintf(", pivot limit %d reached", maxIter)
	}
	p.Cost = p.T.Dot(M)
	p.U, p.V = s.duals(a, b)
	p.MarginalError = marginalError(p.T, a, b)
	return p, nil
}

// runSimplex solves the balanced transportation problem (a, b, M) without
// checking its inputs; +Inf costs mark arcs that may not carry flow. It
// returns the final basis, whether it is optimal and the pivot limit used
// (maxIter, or its default when maxIter ≤ 0).
func runSimplex(a, b []float64, M *Matrix, maxIter int) (*simplex, bool, int) {
	if maxIter <= 0 {
		maxIter = max(DefaultEMDMaxIter, 100*(M.Rows+M.Cols))
	}
	s := newSimplex(a, b, M)
	return s, s.solve(maxIter), maxIter
}

// EMD2 returns the exact transport cost ⟨T, M⟩ of EMD with default
// options (POT's ot.emd2).
func EMD2(a, b []float64, M *Matrix) (float64, error) {
	p, err := EMD(a, b, M, EMDOptions{})
	if err != nil {
		return 0, err
	}
	return p.Cost, nil
}

// exactMarginals fills in uniform marginals, checks a, b and M, and
// balances the masses (normalising both when normalize is set, else
// rescaling b to a's mass once they agree within massTolerance). The
// returned slices are copies.
func exactMarginals(a, b []float64, M *Matrix, normalize bool) ([]float64, []float64, error) {
	n, m := M.Rows, M.Cols
	if n == 0 || m == 0 {
		return nil, nil, fmt.Errorf("ot: cost matrix M is %d×%d; it needs at least one row and one column", n, m)
	}
	a, b = orUniform(a, n), orUniform(b, m)
	if err := checkMarginal("a", a, n); err != nil {
		return nil, nil, err
	}
	if err := checkMarginal("b", b, m); err != nil {
		return nil, nil, err
	}
	if err := checkCost("M", M, n, m); err != nil {
		return nil, nil, err
	}
	sa, sb := sum(a), sum(b)
	a = append([]float64(nil), a...)
	b = append([]float64(nil), b...)
	if normalize {
		for i := range a {
			a[i] /= sa
		}
		for j := range b {
			b[j] /= sb
		}
		return a, b, nil
	}
	if err := checkBalanced(a, b); err != nil {
		return nil, nil, err
	}
	for j := range b {
		b[j] *= sa / sb
	}
	return a, b, nil
}

// marginalError returns the largest |row sum − a_i| and |column sum − b_j|
// of T.
func marginalError(T *Matrix, a, b []float64) float64 {
	e := 0.0
	for i, r := range T.RowSums() {
		e = math.Max(e, math.Abs(r-a[i]))
	}
	for j, c := range T.ColSums() {
		e = math.Max(e, math.Abs(c-b[j]))
	}
	return e
}

// simplex is the network simplex on the transportation graph: supply
// nodes 0..n-1 (supply a_i), demand nodes n..n+m-1 (demand b_j), a root
// node n+m, real arcs i→n+j (arc index i·m+j, cost M_ij, uncapacitated)
// and one artificial arc per node joining it to the root (supply nodes of
// positive supply u→root at cost 0, the other nodes root→u at a cost
// larger than any path of real arcs, so that the initial tree's arcs of
// zero flow point away from the root: it is strongly feasible). The basis is a spanning tree rooted at the root; non-tree
// arcs carry no flow (there are no capacities), so flows live on the tree
// nodes: flow[u] is the flow on pred[u], the arc joining u to parent[u].
// Node potentials pi make every tree arc's reduced cost
// c_st + pi_s − pi_t zero; the entering arc is the most negative reduced
// cost in a block of arcs (block search pricing), the leaving arc is
// chosen on the cycle by the strongly feasible tree rule, so degenerate
// pivots do not cycle.
type simplex struct {
	n, m, root int
	cost       []float64 // M's data, row-major
	inTree     []bool    // real arc in the basis
	artUp      []bool    // node u's artificial arc runs u → root (cost 0)
	artCost    float64
	tol        float64

	parent, pred, depth     []int32
	up                      []bool // pred[u] is directed u → parent[u]
	flow, pi                []float64
	child, nextSib, prevSib []int32 // child lists of the tree
	stem                    []int32
	block, nextArc, pivots  int
	first, second, join     int32
	uIn, vIn, uOut, inArc   int32
	delta                   float64
	maxAbsCost              float64
}

// newSimplex builds the initial basis: the star of artificial arcs, each
// carrying its node's supply or demand.
func newSimplex(a, b []float64, M *Matrix) *simplex {
	n, m := M.Rows, M.Cols
	N := n + m + 1
	s := &simplex{n: n, m: m, root: n + m, cost: M.Data, inTree: make([]bool, n*m)}
	for _, c := range M.Data {
		if !math.IsInf(c, 1) {
			s.maxAbsCost = math.Max(s.maxAbsCost, math.Abs(c))
		}
	}
	scale := s.maxAbsCost
	if scale == 0 {
		scale = 1
	}
	// Every path of real arcs costs less than N·max|M| in absolute value,
	// so routing a unit through the root costs more than any such path
	// saves: optimal flows leave the artificial arcs empty.
	s.artCost = 2 * scale * float64(N)
	// Reduced costs are differences of potentials of size up to artCost;
	// anything above a few ulps of those is a real improvement.
	s.tol = 1e-14 * s.artCost
	s.parent = make([]int32, N)
	s.pred = make([]int32, N)
	s.artUp = make([]bool, N)
	s.depth = make([]int32, N)
	s.up = make([]bool, N)
	s.flow = make([]float64, N)
	s.pi = make([]float64, N)
	s.child = make([]int32, N)
	s.nextSib = make([]int32, N)
	s.prevSib = make([]int32, N)
	s.block = max(int(math.Sqrt(float64(n*m))), 10)
	root := int32(s.root)
	s.parent[root], s.pred[root], s.child[root] = -1, -1, -1
	s.nextSib[root], s.prevSib[root] = -1, -1
	for u := 0; u < n+m; u++ {
		s.child[u] = -1
		s.pred[u] = int32(n*m + u)
		s.depth[u] = 1
		s.addChild(root, int32(u))
		if u < n && a[u] > 0 {
			s.up[u], s.flow[u], s.pi[u] = true, a[u], 0
			s.artUp[u] = true
		} else if u < n {
			s.up[u], s.flow[u], s.pi[u] = false, 0, s.artCost
		} else {
			s.up[u], s.flow[u], s.pi[u] = false, b[u-n], s.artCost
		}
	}
	return s
}

// addChild hangs u under p.
func (s *simplex) addChild(p, u int32) {
	s.parent[u] = p
	f := s.child[p]
	s.nextSib[u], s.prevSib[u] = f, -1
	if f >= 0 {
		s.prevSib[f] = u
	}
	s.child[p] = u
}

// removeChild unhooks u from its parent's child list.
func (s *simplex) removeChild(u int32) {
	p, ps, ns := s.parent[u], s.prevSib[u], s.nextSib[u]
	if ps >= 0 {
		s.nextSib[ps] = ns
	} else {
		s.child[p] = ns
	}
	if ns >= 0 {
		s.prevSib[ns] = ps
	}
}

// arcCost returns the cost of arc e (real or artificial).
func (s *simplex) arcCost(e int32) float64 {
	nm := int32(s.n * s.m)
	if e < nm {
		return s.cost[e]
	}
	if s.artUp[e-nm] {
		return 0
	}
	return s.artCost
}

// solve pivots until no arc prices out or maxIter pivots were made, and
// reports whether it reached optimality.
func (s *simplex) solve(maxIter int) bool {
	for {
		for s.findEntering() {
			if s.pivots >= maxIter {
				return false
			}
			s.pivots++
			s.pivot()
		}
		// Potentials drift by rounding over many pivots; recompute them
		// from the tree and price once more before declaring optimality.
		s.recomputePotentials()
		if !s.findEntering() {
			return true
		}
		if s.pivots >= maxIter {
			return false
		}
		s.pivots++
		s.pivot()
	}
}

// findEntering scans blocks of arcs from where the last search stopped and
// picks the most negative reduced cost of the first block that has one.
func (s *simplex) findEntering() bool {
	n, m, nm := s.n, s.m, s.n*s.m
	cost, inTree, pi := s.cost, s.inTree, s.pi
	piT := pi[n : n+m]
	best, bestArc := -s.tol, -1
	cnt := s.block // arcs left in the current block
	e := s.nextArc
	for scanned := 0; scanned < nm; {
		// One run of arcs within row i, from column j, at most to the
		// block's end.
		i, j := e/m, e%m
		end := min(e+cnt, (i+1)*m)
		row, tree := cost[e:end], inTree[e:end]
		pt := piT[j : j+len(row)]
		pii := pi[i]
		for k, c := range row {
			if r := c + pii - pt[k]; r < best && !tree[k] {
				best, bestArc = r, e+k
			}
		}
		scanned += end - e
		cnt -= end - e
		e = end
		if e == nm {
			e = 0
		}
		if cnt == 0 {
			if bestArc >= 0 {
				break
			}
			cnt = s.block
		}
	}
	if bestArc < 0 {
		return false
	}
	s.nextArc = e
	s.inArc = int32(bestArc)
	return true
}

// pivot brings inArc into the basis: finds the cycle it closes, pushes the
// largest feasible flow around it, drops the blocking arc and re-hangs the
// subtree cut off by it.
func (s *simplex) pivot() {
	e := s.inArc
	s.first, s.second = e/int32(s.m), int32(s.n)+e%int32(s.m)
	s.findJoin()
	s.findLeaving()
	s.changeFlow()
	s.updateTree()
}

// findJoin finds the first common ancestor of the entering arc's ends.
func (s *simplex) findJoin() {
	u, v := s.first, s.second
	for s.depth[u] > s.depth[v] {
		u = s.parent[u]
	}
	for s.depth[v] > s.depth[u] {
		v = s.parent[v]
	}
	for u != v {
		u, v = s.parent[u], s.parent[v]
	}
	s.join = u
}

// findLeaving finds the blocking arc of the cycle (flow is pushed along
// the entering arc first→second, then from second up to join and down from
// join to first). Ties go to the last blocking arc met in the cycle's
// direction starting from join (the strongly feasible tree rule).
func (s *simplex) findLeaving() {
	delta, side := math.Inf(1), 0
	for u := s.first; u != s.join; u = s.parent[u] {
		if s.up[u] && s.flow[u] < delta { // flow runs parent→u, against the arc
			delta, s.uOut, side = s.flow[u], u, 1
		}
	}
	for u := s.second; u != s.join; u = s.parent[u] {
		if !s.up[u] && s.flow[u] <= delta {
			delta, s.uOut, side = s.flow[u], u, 2
		}
	}
	if side == 0 { // a cycle of unbounded capacity: none exists here
		panic("ot: emd: no blocking arc on the pivot cycle (internal error)")
	}
	if side == 1 {
		s.uIn, s.vIn = s.first, s.second
	} else {
		s.uIn, s.vIn = s.second, s.first
	}
	s.delta = delta
}

// changeFlow pushes delta around the cycle.
func (s *simplex) changeFlow() {
	d := s.delta
	if d > 0 {
		for u := s.first; u != s.join; u = s.parent[u] {
			if s.up[u] {
				s.flow[u] -= d
			} else {
				s.flow[u] += d
			}
		}
		for u := s.second; u != s.join; u = s.parent[u] {
			if s.up[u] {
				s.flow[u] += d
			} else {
				s.flow[u] -= d
			}
		}
	}
	if out := s.pred[s.uOut]; int(out) < s.n*s.m {
		s.inTree[out] = false
	}
	s.inTree[s.inArc] = true
}

// updateTree replaces the leaving arc (pred of uOut) by the entering arc:
// the path uIn … uOut (the stem) is reversed so that uIn hangs under vIn,
// then the moved subtree's potentials and depths are updated.
func (s *simplex) updateTree() {
	stem := s.stem[:0]
	for u := s.uIn; ; u = s.parent[u] {
		stem = append(stem, u)
		if u == s.uOut {
			break
		}
	}
	s.stem = stem
	for _, u := range stem {
		s.removeChild(u)
	}
	// The arc joining stem[k] to stem[k+1] becomes stem[k+1]'s pred, now
	// pointing the other way relative to the new parent.
	for k := len(stem) - 2; k >= 0; k-- {
		u, v := stem[k], stem[k+1]
		s.pred[v], s.up[v], s.flow[v] = s.pred[u], !s.up[u], s.flow[u]
	}
	uIn := s.uIn
	s.pred[uIn] = s.inArc
	s.up[uIn] = uIn == s.first // the entering arc runs first → second
	s.flow[uIn] = s.delta
	s.addChild(s.vIn, uIn)
	for k := 1; k < len(stem); k++ {
		s.addChild(stem[k-1], stem[k])
	}
	c := s.cost[s.inArc]
	var sigma float64
	if s.up[uIn] {
		sigma = s.pi[s.vIn] - c - s.pi[uIn]
	} else {
		sigma = s.pi[s.vIn] + c - s.pi[uIn]
	}
	s.walkSubtree(uIn, sigma, false)
}

// walkSubtree adds sigma to the potentials of the subtree under top (or,
// when exact, sets them from the tree arcs) and recomputes its depths (a
// stackless pre-order walk).
func (s *simplex) walkSubtree(top int32, sigma float64, exact bool) {
	parent, child, next, depth, pi := s.parent, s.child, s.nextSib, s.depth, s.pi
	u := top
	for {
		if exact {
			s.setPotential(u)
		} else {
			pi[u] += sigma
		}
		depth[u] = depth[parent[u]] + 1
		if c := child[u]; c >= 0 {
			u = c
			continue
		}
		for u != top && next[u] < 0 {
			u = parent[u]
		}
		if u == top {
			return
		}
		u = next[u]
	}
}

// recomputePotentials sets every potential from the root along the tree
// arcs, removing rounding drift.
func (s *simplex) recomputePotentials() {
	root := int32(s.root)
	s.pi[root] = 0
	for c := s.child[root]; c >= 0; c = s.nextSib[c] {
		s.walkSubtree(c, 0, true)
	}
}

// setPotential makes u's pred arc tight given its parent's potential.
func (s *simplex) setPotential(u int32) {
	c := s.arcCost(s.pred[u])
	if s.up[u] { // u → parent: pi_parent = pi_u + c
		s.pi[u] = s.pi[s.parent[u]] - c
	} else {
		s.pi[u] = s.pi[s.parent[u]] + c
	}
}

// plan returns the flows of the real tree arcs as an n×m matrix.
func (s *simplex) plan() *Matrix {
	T := Zeros(s.n, s.m)
	nm := int32(s.n * s.m)
	for u := 0; u < s.root; u++ {
		if e := s.pred[u]; e < nm {
			T.Data[e] = s.flow[u]
		}
	}
	return T
}

// duals returns the potentials as OT duals (U_i = −pi_i, V_j = pi_{n+j}),
// shifted by POT's center_ot_dual so that Σ a·U = Σ b·V.
func (s *simplex) duals(a, b []float64) ([]float64, []float64) {
	U := make([]float64, s.n)
	V := make([]float64, s.m)
	da, db := 0.0, 0.0
	for i := range U {
		U[i] = -s.pi[i]
		da += a[i] * U[i]
	}
	for j := range V {
		V[j] = s.pi[s.n+j]
		db += b[j] * V[j]
	}
	c := (db - da) / (sum(a) + sum(b))
	for i := range U {
		U[i] += c
	}
	for j := range V {
		V[j] -= c
	}
	return U, V
}
