package merge

import "github.com/graftml/graft/tensor"

// Method merges the task vectors of one tensor: the differences between each
// fine-tuned model's value of one parameter and the base model's value.
type Method interface {
	// Name is the method's name as tables and errors show it, such as "TIES".
	Name() string
	// MergeTensor returns the merged task vector of the parameter called
	// name, given the base tensor and one task vector per fine-tuned model,
	// all of the base's shape. It never modifies its inputs. Methods that do
	// not need the base (most of them) ignore it; name lets a method hold
	// per-parameter state, such as Fisher information, and appears in errors.
	MergeTensor(name string, base *tensor.Tensor, deltas []*tensor.Tensor) (*tensor.Tensor, error)
}
