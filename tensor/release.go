package tensor

import "fmt"

// Release ends a training step: it frees the graph that computed t. Every
// tensor computed on the way to t, t itself excepted, gives its memory back
// to graft's buffer pool, where the next step's operations find it, and t is
// cut from the graph: it keeps its values, becomes a leaf and requires no
// gradient. Leaves — parameters, inputs, constants — are untouched, and so are
// gradients kept with RetainGrad.
//
// Call it once the step is over: after Backward, after the optimiser's Step
// and after reading whatever the step reports. A training loop that releases
// its loss every step allocates no new large buffers once warm; nn/train's Run
// does so. A tensor of the released graph must not be used afterwards: reading
// it panics with a message saying it was released. Values obtained through
// Data, and tensors made with Detach, stay valid: their memory is never
// recycled.
func (t *Tensor) Release() {
	if t.node == nil {
		return
	}
	for _, u := range topoOrder(t) {
		for _, b := range u.node.scratch {
			putBuffer(b)
		}
		u.node.scratch = nil
		if u == t {
			continue
		}
		if u.pooled {
			putBuffer(u.data)
		}
		u.data, u.pooled, u.released = nil, false, true
		if !u.retainGrad && u.grad != nil {
			putBuffer(u.grad)
			u.grad = nil
		}
		u.node = nil
	}
	t.node, t.requiresGrad = nil, false
}

// live panics when t's memory was given back by Release.
func (t *Tensor) live(op string) {
	if t.released {
		panic(fmt.Sprintf("%s: the tensor of shape %s was freed by Release at the end of its step; keep what you need with Detach, Clone or Data before releasing", op, FormatShape(t.shape)))
	}
}
