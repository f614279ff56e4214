package hf

import (
	"fmt"

	"github.com/graftml/graft/tensor"
)

// ActivationName maps an activation name of a Hugging Face config
// ("activation_function", "hidden_act") to the name nn.Activate takes, or
// returns an error naming it when graft has no such function. The tanh
// approximations gelu_new, gelu_fast and gelu_pytorch_tanh are one function.
func ActivationName(hfName string) (string, error) {
	switch hfName {
	case "gelu", "relu", "silu", "tanh", "sigmoid", "quick_gelu":
		return hfName, nil
	case "swish":
		return "silu", nil
	case "gelu_new", "gelu_fast", "gelu_pytorch_tanh":
		return "gelu_new", nil
	case "linear":
		return "identity", nil
	}
	return "", fmt.Errorf("hf: activation %q is not supported (want gelu, gelu_new, gelu_fast, gelu_pytorch_tanh, quick_gelu, relu, silu, swish, tanh, sigmoid or linear)", hfName)
}

// PadIDs turns token-id sequences of possibly different lengths into an (N, L)
// tensor of ids, L the longest length, padding each row on the right with pad,
// and returns the lengths (for nn.PaddingMask). Every sequence must be
// non-empty.
func PadIDs(ids [][]int, pad int) (*tensor.Tensor, []int, error) {
	if len(ids) == 0 {
		return nil, nil, fmt.Errorf("hf: no sequences")
	}
	lengths := make([]int, len(ids))
	longest := 0
	for i, s := range ids {
		if len(s) == 0 {
			return nil, nil, fmt.Errorf("hf: sequence %d is empty", i)
		}
		lengths[i] = len(s)
		longest = max(longest, len(s))
	}
	data := make([]float32, len(ids)*longest)
	for i, s := range ids {
		row := data[i*longest : (i+1)*longest]
		for j := range row {
			if j < len(s) {
				row[j] = float32(s[j])
			} else {
				row[j] = float32(pad)
			}
		}
	}
	return tensor.New(data, len(ids), longest), lengths, nil
}
