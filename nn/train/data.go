package train

import (
	"fmt"

	"github.com/graftml/graft/tensor"
)

// Batch is one mini-batch: inputs X, and targets Y and/or class Labels as the
// dataset provides them, plus the dataset Indices of its rows.
type Batch struct {
	X, Y    *tensor.Tensor
	Labels  []int
	Indices []int
}

// Size returns the number of examples in the batch.
func (b Batch) Size() int { return len(b.Indices) }

// Dataset is anything that can hand out batches of examples by index.
type Dataset interface {
	// Len returns the number of examples.
	Len() int
	// Batch returns the examples at indices (each in [0, Len())), in that order.
	Batch(indices []int) Batch
}

// TensorDataset is a dataset held in tensors whose rows (axis 0) are examples:
// inputs X with optional targets Y and optional class labels.
type TensorDataset struct {
	X, Y   *tensor.Tensor
	Labels []int
}

// NewTensorDataset returns the dataset of the rows of x with the matching rows
// of y (y may be nil). It is an error if x and y have different numbers of rows.
func NewTensorDataset(x, y *tensor.Tensor) (*TensorDataset, error) {
	if err := checkRows("x", x); err != nil {
		return nil, err
	}
	if y != nil {
		if err := checkRows("y", y); err != nil {
			return nil, err
		}
		if y.Dim(0) != x.Dim(0) {
			return nil, fmt.Errorf("train: dataset: x has %d rows %s but y has %d %s", x.Dim(0), tensor.FormatShape(x.Shape()), y.Dim(0), tensor.FormatShape(y.Shape()))
		}
	}
	return &TensorDataset{X: x, Y: y}, nil
}

// NewLabelledDataset returns the dataset of the rows of x with one class label
// each. It is an error if there are not as many labels as rows.
func NewLabelledDataset(x *tensor.Tensor, labels []int) (*TensorDataset, error) {
	if err := checkRows("x", x); err != nil {
		return nil, err
	}
	if len(labels) != x.Dim(0) {
		return nil, fmt.Errorf("train: dataset: x has %d rows %s but there are %d labels", x.Dim(0), tensor.FormatShape(x.Shape()), len(labels))
	}
	return &TensorDataset{X: x, Labels: append([]int(nil), labels...)}, nil
}

func checkRows(name string, t *tensor.Tensor) error {
	if t == nil {
		return fmt.Errorf("train: dataset: %s is nil", name)
	}
	if t.Dims() == 0 {
		return fmt.Errorf("train: dataset: %s is a scalar; its rows (axis 0) must be the examples", name)
	}
	return nil
}

// Len returns the number of rows.
func (d *TensorDataset) Len() int { return d.X.Dim(0) }

// Batch returns the rows at indices as copies (detached from any graph).
func (d *TensorDataset) Batch(indices []int) Batch {
	b := Batch{Indices: append([]int(nil), indices...)}
	b.X = d.X.Detach().IndexSelect(0, indices)
	if d.Y != nil {
		b.Y = d.Y.Detach().IndexSelect(0, indices)
	}
	if d.Labels != nil {
		b.Labels = make([]int, len(indices))
		for i, j := range indices {
			b.Labels[i] = d.Labels[j]
		}
	}
	return b
}
