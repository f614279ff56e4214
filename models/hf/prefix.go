package hf

import (
	"fmt"
	"slices"

	"github.com/graftml/graft/tensor"
)

// Prefix prepends prefix keys and values (heads, P, head width), the same for
// every sequence, to an attention layer's own keys and values k, v
// (N, heads, L, head width), as Hugging Face models attend over
// past_key_values (prefix tuning): the additive mask (broadcasting to
// (N, heads, L, L), or nil) gains P zero columns on the left, so every
// position attends to every prefix entry. what names the layer in panics.
func Prefix(pk, pv, k, v, mask *tensor.Tensor, what string) (keys, values, m *tensor.Tensor) {
	n, h, e := k.Dim(0), k.Dim(1), k.Dim(3)
	if pk.Dims() != 3 || pk.Dim(0) != h || pk.Dim(2) != e || pv == nil || !slices.Equal(pk.Shape(), pv.Shape()) {
		var vs []int
		if pv != nil {
			vs = pv.Shape()
		}
		panic(fmt.Sprintf("%s: prefix keys %s and values %s must both be (%d heads, P, %d)",
			what, tensor.FormatShape(pk.Shape()), tensor.FormatShape(vs), h, e))
	}
	p := pk.Dim(1)
	keys = tensor.Concat(2, pk.BroadcastTo(n, h, p, e), k)
	values = tensor.Concat(2, pv.BroadcastTo(n, h, p, e), v)
	if mask != nil {
		mask = mask.Pad(mask.Dims()-1, p, 0, 0)
	}
	return keys, values, mask
}
