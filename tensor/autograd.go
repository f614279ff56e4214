package tensor

import (
	"fmt"
	"sync/atomic"
)

// node records how a non-leaf tensor was made: the operation's name, its
// inputs, and a function that, given the gradient of the output, adds each
// input's gradient into that input's grad buffer.
type node struct {
	op       string
	inputs   []*Tensor
	backward func(grad []float32)
	// scratch holds pooled buffers only the backward reads (such as max
	// pooling's positions); Release gives them back to the pool.
	scratch [][]float32
}

// keepForBackward hands a pooled buffer that t's backward reads to t's
// node, so that Release recycles it with the graph; without a node (no
// gradient recorded) the buffer is recycled at once.
func (t *Tensor) keepForBackward(buf []float32) {
	if t.node == nil {
		putBuffer(buf)
		return
	}
	t.node.scratch = append(t.node.scratch, buf)
}

// gradDisabled counts active NoGrad scopes; gradients are recorded when it is 0.
var gradDisabled atomic.Int32

// GradEnabled reports whether operations currently record gradients.
func GradEnabled() bool { return gradDisabled.Load() == 0 }

// NoGrad turns off gradient recording until the returned function is called:
//
//	defer tensor.NoGrad()()
//
// The setting is global to the process (all goroutines), like a notebook's mode.
func NoGrad() (restore func()) {
	gradDisabled.Add(1)
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			gradDisabled.Add(-1)
		}
	}
}

// WithNoGrad runs f with gradient recording turned off.
func WithNoGrad(f func()) {
	defer NoGrad()()
	f()
}

// tracking reports whether an op on these inputs must record a node.
func tracking(inputs ...*Tensor) bool {
	if gradDisabled.Load() != 0 {
		return false
	}
	for _, t := range inputs {
		if t != nil && t.requiresGrad {
			return true
		}
	}
	return false
}

// record attaches a node to out when gradients are being tracked for inputs.
// backward receives the gradient of out and must accumulate into the inputs
// that require gradients (see gradOf).
//
// Every operation passes its inputs through here, so an input freed by
// Release panics here, naming the operation, rather than giving a result
// computed from nothing.
func record(op string, out *Tensor, backward func(grad []float32), inputs ...*Tensor) *Tensor {
	for _, t := range inputs {
		if t != nil {
			t.live(op)
		}
	}
	if !tracking(inputs...) {
		return out
	}
	out.requiresGrad = true
	out.node = &node{op: op, inputs: inputs, backward: backward}
	return out
}

// gradOf returns t's gradient buffer, allocating it zeroed if needed, or nil
// when t does not require gradients (so backward code can skip it).
func gradOf(t *Tensor) []float32 {
	if t == nil || !t.requiresGrad {
		return nil
	}
	if t.grad == nil {
		if t.node != nil {
			t.grad = getZeroedBuffer(len(t.data))
		} else {
			t.grad = make([]float32, len(t.data))
		}
	}
	return t.grad
}

// RequiresGrad reports whether gradients flow to (or through) this tensor.
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

// SetRequiresGrad marks a leaf tensor as a parameter whose gradient Backward
// should compute (or not), and returns t. It panics on a non-leaf tensor.
func (t *Tensor) SetRequiresGrad(on bool) *Tensor {
	if t.node != nil {
		panic(fmt.Sprintf("set_requires_grad: tensor of shape %s was computed by %s; only leaf tensors can change it (use Detach)", FormatShape(t.shape), t.node.op))
	}
	t.requiresGrad = on
	if !on {
		t.grad = nil
	}
	return t
}

// IsLeaf reports whether the tensor was created directly rather than computed
// by a recorded operation.
func (t *Tensor) IsLeaf() bool { return t.node == nil }

// Op returns the name of the operation that computed the tensor, or "" for a leaf.
func (t *Tensor) Op() string {
	if t.node == nil {
		return ""
	}
	return t.node.op
}

// RetainGrad keeps the gradient of a non-leaf tensor after Backward so it can
// be inspected with Grad. It returns t.
func (t *Tensor) RetainGrad() *Tensor {
	t.retainGrad = true
	return t
}

// Grad returns the accumulated gradient as a tensor sharing its storage, or
// nil if none has been computed.
func (t *Tensor) Grad() *Tensor {
	if t.grad == nil {
		return nil
	}
	return newTensor(t.shape, t.grad)
}

// GradData returns the accumulated gradient's values, shared with the tensor
// (nil if none) — for optimisers that update parameters in place.
func (t *Tensor) GradData() []float32 { return t.grad }

// SetGrad replaces the accumulated gradient with a copy of g (nil clears it).
func (t *Tensor) SetGrad(g *Tensor) {
	if g == nil {
		t.grad = nil
		return
	}
	if len(g.data) != len(t.data) {
		panic(fmt.Sprintf("set_grad: gradient of shape %s for tensor of shape %s", FormatShape(g.shape), FormatShape(t.shape)))
	}
	if t.grad == nil {
		t.grad = make([]float32, len(t.data))
	}
	copy(t.grad, g.data)
}

// ZeroGrad sets the accumulated gradient to zero, keeping its buffer.
func (t *Tensor) ZeroGrad() {
	for i := range t.grad {
		t.grad[i] = 0
	}
}

// Detach returns a tensor sharing t's values but cut from the graph: no
// gradient flows through it.
func (t *Tensor) Detach() *Tensor {
	t.pooled = false // the view outlives any Release of t's graph
	return newTensor(t.shape, t.data)
}

// Backward computes the gradient of a one-element tensor with respect to every
// leaf that requires gradients, adding it to their Grad.
func (t *Tensor) Backward() {
	if len(t.data) != 1 {
		panic(fmt.Sprintf("backward: output has shape %s; reduce it to one value or use BackwardWith", FormatShape(t.shape)))
	}
	t.BackwardWith(Ones(t.shape...))
}

// BackwardWith back-propagates the given gradient of t (same shape as t).
func (t *Tensor) BackwardWith(grad *Tensor) {
	if !t.requiresGrad {
		panic("backward: tensor does not require grad (no input required gradients, or it was computed under NoGrad)")
	}
	if len(grad.data) != len(t.data) {
		panic(fmt.Sprintf("backward: gradient of shape %s for output of shape %s", FormatShape(grad.shape), FormatShape(t.shape)))
	}
	g := gradOf(t)
	for i, v := range grad.data {
		g[i] += v
	}
	if t.node == nil {
		return
	}
	order := topoOrder(t)
	defer NoGrad()()
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if n.grad == nil {
			continue
		}
		n.node.backward(n.grad)
		if !n.retainGrad {
			// A backward may have handed the buffer on (setting n.grad to nil).
			if n.grad != nil {
				putBuffer(n.grad)
			}
			n.grad = nil
		}
	}
}

// topoOrder lists the non-leaf tensors reachable from t so that each comes
// after every tensor it was computed from.
func topoOrder(t *Tensor) []*Tensor {
	var order []*Tensor
	visited := map[*Tensor]bool{}
	type frame struct {
		t    *Tensor
		next int
	}
	stack := []frame{{t, 0}}
	visited[t] = true
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next < len(top.t.node.inputs) {
			in := top.t.node.inputs[top.next]
			top.next++
			if in != nil && in.node != nil && in.requiresGrad && !visited[in] {
				visited[in] = true
				stack = append(stack, frame{in, 0})
			}
			continue
		}
		order = append(order, top.t)
		stack = stack[:len(stack)-1]
	}
	return order
}

// Custom records a differentiable operation whose forward was computed outside
// autodiff. out holds the result (a fresh tensor, e.g. computed under NoGrad or
// from Detach-ed inputs); backward maps the gradient of out to one gradient per
// input, each of that input's shape (nil where an input gets none). backward
// runs with gradient recording off, so it may use any tensor operation.
//
// A gradient reversal layer, identity forward and −λ·gradient backward:
//
//	func GradReverse(x *tensor.Tensor, lambda float32) *tensor.Tensor {
//		return tensor.Custom("grad_reverse", x.Detach(), []*tensor.Tensor{x},
//			func(g *tensor.Tensor) []*tensor.Tensor { return []*tensor.Tensor{g.Scale(-lambda)} })
//	}
func Custom(name string, out *Tensor, inputs []*Tensor, backward func(grad *Tensor) []*Tensor) *Tensor {
	if out.node != nil {
		panic(fmt.Sprintf("custom op %s: the output was itself computed by %s; compute it under NoGrad or Detach it", name, out.node.op))
	}
	if out.requiresGrad {
		out = out.Detach()
	}
	return record(name, out, func(g []float32) {
		out.grad = nil // the user's backward may keep the gradient tensor: don't recycle it
		grads := backward(newTensor(out.shape, g))
		if len(grads) != len(inputs) {
			panic(fmt.Sprintf("custom op %s: backward returned %d gradients for %d inputs", name, len(grads), len(inputs)))
		}
		for i, in := range inputs {
			dst := gradOf(in)
			if dst == nil || grads[i] == nil {
				continue
			}
			if len(grads[i].data) != len(in.data) {
				panic(fmt.Sprintf("custom op %s: backward returned a gradient of shape %s for input %d of shape %s", name, FormatShape(grads[i].shape), i, FormatShape(in.shape)))
			}
			for j, v := range grads[i].data {
				dst[j] += v
			}
		}
	}, inputs...)
}
