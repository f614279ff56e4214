package project

import "math"

// maxTreeDepth bounds the quadtree's depth: points closer than the root's
// width / 2^maxTreeDepth share a leaf, where they are summed exactly.
const maxTreeDepth = 48

// quadNode is a square cell of the quadtree.
type quadNode struct {
	cx, cy, half float64 // centre and half the side
	mx, my       float64 // sum of the points' coordinates, then their centre of mass
	count        int32   // points in the cell
	child        int32   // index of the first of 4 children; -1 for a leaf
	head         int32   // a leaf's first point (linked through next); -1 if empty
	depth        int32
}

// quadTree is a 2-D Barnes-Hut tree over the points of an embedding. Its
// buffers are reused from one iteration to the next.
type quadTree struct {
	nodes []quadNode
	next  []int32 // next point in the same leaf, -1 at the end
	y     []float64
}

// build rebuilds the tree over the n points of the n×2 embedding y.
func (t *quadTree) build(y []float64, n int) {
	t.y = y
	t.nodes = t.nodes[:0]
	if cap(t.next) < n {
		t.next = make([]int32, n)
	}
	t.next = t.next[:n]
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for i := range n {
		minX, maxX = min(minX, y[2*i]), max(maxX, y[2*i])
		minY, maxY = min(minY, y[2*i+1]), max(maxY, y[2*i+1])
	}
	half := max(maxX-minX, maxY-minY)/2*(1+1e-6) + 1e-12
	t.nodes = append(t.nodes, quadNode{cx: (minX + maxX) / 2, cy: (minY + maxY) / 2, half: half, child: -1, head: -1})
	if n == 0 {
		return
	}
	for i := range n {
		t.insert(0, int32(i))
	}
	for k := range t.nodes {
		nd := &t.nodes[k]
		if nd.count > 0 {
			nd.mx /= float64(nd.count)
			nd.my /= float64(nd.count)
		}
	}
}

// quadrant returns which child of nd the point (px, py) falls in.
func (nd *quadNode) quadrant(px, py float64) int32 {
	q := int32(0)
	if px >= nd.cx {
		q = 1
	}
	if py >= nd.cy {
		q += 2
	}
	return q
}

// insert adds point i to the subtree at node k, counting it in every cell
// on its way down.
func (t *quadTree) insert(k int32, i int32) {
	px, py := t.y[2*i], t.y[2*i+1]
	for {
		nd := &t.nodes[k]
		nd.count++
		nd.mx += px
		nd.my += py
		if nd.child >= 0 {
			k = nd.child + nd.quadrant(px, py)
			continue
		}
		if nd.head < 0 {
			nd.head, t.next[i] = i, -1
			return
		}
		h := nd.head
		if nd.depth >= maxTreeDepth || (t.y[2*h] == px && t.y[2*h+1] == py) {
			t.next[i], nd.head = nd.head, i // coincident points share the leaf
			return
		}
		t.split(k)
		nd = &t.nodes[k]
		k = nd.child + nd.quadrant(px, py)
	}
}

// split turns leaf k into four children and moves its points into them
// (they all coincide, so they go to the same child as one list).
func (t *quadTree) split(k int32) {
	nd := t.nodes[k]
	first := int32(len(t.nodes))
	h := nd.half / 2
	for q := range int32(4) {
		cx, cy := nd.cx-h, nd.cy-h
		if q&1 != 0 {
			cx = nd.cx + h
		}
		if q&2 != 0 {
			cy = nd.cy + h
		}
		t.nodes = append(t.nodes, quadNode{cx: cx, cy: cy, half: h, child: -1, head: -1, depth: nd.depth + 1})
	}
	px, py := t.y[2*nd.head], t.y[2*nd.head+1]
	c := &t.nodes[first+nd.quadrant(px, py)]
	c.head = nd.head
	for p := nd.head; p >= 0; p = t.next[p] {
		c.count++
		c.mx += px
		c.my += py
	}
	t.nodes[k].child, t.nodes[k].head = first, -1
}

// repulsion returns, for point i, Σ_j w_ij and the unnormalised repulsive
// force Σ_j w_ij² (y_i − y_j), with far cells (side < theta · distance to
// their centre of mass) standing in for their points.
func (t *quadTree) repulsion(i int, theta2 float64, stack []int32) (z, fx, fy float64, _ []int32) {
	y := t.y
	px, py := y[2*i], y[2*i+1]
	stack = append(stack[:0], 0)
	for len(stack) > 0 {
		nd := &t.nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if nd.child < 0 {
			for p := nd.head; p >= 0; p = t.next[p] {
				if int(p) == i {
					continue
				}
				dx, dy := px-y[2*p], py-y[2*p+1]
				w := 1 / (1 + dx*dx + dy*dy)
				z += w
				ww := w * w
				fx += ww * dx
				fy += ww * dy
			}
			continue
		}
		dx, dy := px-nd.mx, py-nd.my
		d2 := dx*dx + dy*dy
		side := 2 * nd.half
		if side*side < theta2*d2 {
			w := 1 / (1 + d2)
			cw := float64(nd.count) * w
			z += cw
			cww := cw * w
			fx += cww * dx
			fy += cww * dy
			continue
		}
		for c := nd.child; c < nd.child+4; c++ {
			if t.nodes[c].count > 0 {
				stack = append(stack, c)
			}
		}
	}
	return z, fx, fy, stack
}

// bhGradient writes the Barnes-Hut gradient for the sparse joint
// probabilities p (times exag) of the n×2 embedding y into grad and returns
// the estimate of Z. The tree is rebuilt over y.
func bhGradient(p sparseP, y []float64, n int, exag, theta float64, tree *quadTree, grad []float64, w *gradWork) float64 {
	tree.build(y, n)
	theta2 := theta * theta
	parallelRows(n, 200, func(lo, hi int) {
		var stack []int32
		for i := lo; i < hi; i++ {
			px, py := y[2*i], y[2*i+1]
			var ax, ay float64
			for t := p.rowPtr[i]; t < p.rowPtr[i+1]; t++ {
				j := p.col[t]
				dx, dy := px-y[2*j], py-y[2*j+1]
				pw := p.val[t] / (1 + dx*dx + dy*dy)
				ax += pw * dx
				ay += pw * dy
			}
			grad[2*i], grad[2*i+1] = ax, ay
			var z, fx, fy float64
			z, fx, fy, stack = tree.repulsion(i, theta2, stack)
			w.rowZ[i], w.rep[2*i], w.rep[2*i+1] = z, fx, fy
		}
	})
	return w.combine(grad, exag)
}
