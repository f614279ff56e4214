package digits

import (
	"fmt"
	"math"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/tensor"
)

// PairOptions configures the digit domain pairs. The zero value uses all of
// MNIST (60,000 training images for an MNIST source, 10,000 test images for
// an MNIST target), all 1,797 UCI digits, and UCIStyle's defaults.
type PairOptions struct {
	// Dir is the MNIST folder; see MNISTOptions.Dir.
	Dir string
	// SourceLimit and TargetLimit keep the first so many images of the
	// source and of the target (0: all).
	SourceLimit, TargetLimit int
	// Seed drives the random part of a shift (noise, MNIST-M backgrounds).
	Seed uint64
	// UCIStyle configures how MNIST is brought to UCI's 8×8 grid in the MNIST
	// and UCI pairs.
	UCIStyle UCIStyleOptions
}

// mnist loads the MNIST training split (for a source, SourceLimit images) or
// the test split (for a target, TargetLimit images), so that a source and a
// target never share an image.
func (o PairOptions) mnist(train bool) (*data.Dataset, error) {
	limit := o.TargetLimit
	if train {
		limit = o.SourceLimit
	}
	if o.SourceLimit < 0 || o.TargetLimit < 0 {
		return nil, fmt.Errorf("digits: PairOptions: SourceLimit %d and TargetLimit %d may not be negative", o.SourceLimit, o.TargetLimit)
	}
	return MNIST(MNISTOptions{Dir: o.Dir, Train: train, Limit: limit})
}

// uciLimited returns the UCI digits, the first limit of them when limit > 0.
func uciLimited(limit int) (*data.Dataset, error) {
	d, err := UCI()
	if err != nil || limit <= 0 || limit >= d.Len() {
		return d, err
	}
	idx := make([]int, limit)
	for i := range idx {
		idx[i] = i
	}
	return d.Subset(idx), nil
}

// mapErr is Dataset.Map for a transform that can fail.
func mapErr(d *data.Dataset, name string, f func(*tensor.Tensor) (*tensor.Tensor, error)) (*data.Dataset, error) {
	x, err := f(d.X)
	if err != nil {
		return nil, err
	}
	return data.New(name, x, d.Labels, d.Classes)
}

// mnistTo8x8 loads an MNIST split and brings it to 8×8 with UCIStyle, or
// with PoolTo8x8Plain when plain is set.
func (o PairOptions) mnistTo8x8(train, plain bool) (*data.Dataset, error) {
	m, err := o.mnist(train)
	if err != nil {
		return nil, err
	}
	if plain {
		return mapErr(m, m.Name+"-pooled8x8", PoolTo8x8Plain)
	}
	return mapErr(m, m.Name+"-uci-style", func(x *tensor.Tensor) (*tensor.Tensor, error) {
		return UCIStyle(x, o.UCIStyle)
	})
}

// MNISTToUCI returns the cross-dataset pair MNIST → UCI digits at 8×8: the
// source is MNIST's training images brought to 8×8 as the UCI digits were
// made (UCIStyle with opts.UCIStyle), the target the UCI digits. Both hold
// counts / 16 in [0, 1], shape (N, 1, 8, 8). What differs is the writers,
// the scanning and NIST's normalisation — not the preprocessing.
func MNISTToUCI(opts PairOptions) (data.DomainPair, error) {
	src, err := opts.mnistTo8x8(true, false)
	if err != nil {
		return data.DomainPair{}, err
	}
	tgt, err := uciLimited(opts.TargetLimit)
	if err != nil {
		return data.DomainPair{}, err
	}
	return data.DomainPair{Name: "mnist→uci", Source: src, Target: tgt,
		Shift: "another dataset: MNIST digits (Census Bureau staff and high-school students; UCI-style 8×8) → UCI optical digits (13 other writers)"}, nil
}

// UCIToMNIST is MNISTToUCI the other way round: the UCI digits as source,
// MNIST's test images (UCIStyle) as target.
func UCIToMNIST(opts PairOptions) (data.DomainPair, error) {
	src, err := uciLimited(opts.SourceLimit)
	if err != nil {
		return data.DomainPair{}, err
	}
	tgt, err := opts.mnistTo8x8(false, false)
	if err != nil {
		return data.DomainPair{}, err
	}
	return data.DomainPair{Name: "uci→mnist", Source: src, Target: tgt,
		Shift: "another dataset: UCI optical digits → MNIST digits (UCI-style 8×8)"}, nil
}

// MNISTPlainPooledToUCI is MNISTToUCI with the source made by plain average
// pooling (PoolTo8x8Plain) instead of UCIStyle. It shows the preprocessing
// artefact: the pooled MNIST digits fill only the central 6×6 cells and are
// grey rather than counted ink, so a model trained on them does much worse
// on UCI than one trained on MNISTToUCI's source.
func MNISTPlainPooledToUCI(opts PairOptions) (data.DomainPair, error) {
	src, err := opts.mnistTo8x8(true, true)
	if err != nil {
		return data.DomainPair{}, err
	}
	tgt, err := uciLimited(opts.TargetLimit)
	if err != nil {
		return data.DomainPair{}, err
	}
	return data.DomainPair{Name: "mnist-pooled→uci", Source: src, Target: tgt,
		Shift: "another dataset plus a preprocessing artefact: MNIST average-pooled 28→8 (digits in the central 6×6) → UCI optical digits"}, nil
}

// mnistShift builds a pair whose source is MNIST's training images and whose
// target is MNIST's test images transformed by f. rgb makes the source
// three-channel too, for targets in colour.
func mnistShift(opts PairOptions, name, suffix, shift string, rgb bool, f func(*tensor.Tensor) *tensor.Tensor) (data.DomainPair, error) {
	src, err := opts.mnist(true)
	if err != nil {
		return data.DomainPair{}, err
	}
	tgt, err := opts.mnist(false)
	if err != nil {
		return data.DomainPair{}, err
	}
	if rgb {
		if src, err = src.Map(src.Name+"-rgb", data.ToRGB); err != nil {
			return data.DomainPair{}, err
		}
	}
	if tgt, err = tgt.Map(tgt.Name+"-"+suffix, f); err != nil {
		return data.DomainPair{}, err
	}
	return data.DomainPair{Name: name, Source: src, Target: tgt, Shift: shift}, nil
}

// MNISTToRotated returns MNIST → MNIST rotated by degrees (counter-clockwise,
// about the image centre, data.Rotate): the source is MNIST's training
// images, the target its test images rotated. Shapes (N, 1, 28, 28).
func MNISTToRotated(opts PairOptions, degrees float64) (data.DomainPair, error) {
	if math.IsNaN(degrees) || math.IsInf(degrees, 0) {
		return data.DomainPair{}, fmt.Errorf("digits: MNISTToRotated: degrees %v is not finite", degrees)
	}
	return mnistShift(opts, fmt.Sprintf("mnist→rotated %g°", degrees), fmt.Sprintf("rot%g", degrees),
		fmt.Sprintf("target rotated by %g°", degrees), false,
		func(x *tensor.Tensor) *tensor.Tensor { return data.Rotate(x, degrees) })
}

// MNISTToNoisy returns MNIST → MNIST with Gaussian pixel noise of standard
// deviation std (data.AddNoise seeded by opts.Seed), clamped to [0, 1].
func MNISTToNoisy(opts PairOptions, std float64) (data.DomainPair, error) {
	if !(std >= 0) || math.IsInf(std, 0) {
		return data.DomainPair{}, fmt.Errorf("digits: MNISTToNoisy: std %v must be finite and non-negative", std)
	}
	return mnistShift(opts, fmt.Sprintf("mnist→noisy σ=%g", std), fmt.Sprintf("noise%g", std),
		fmt.Sprintf("target with Gaussian pixel noise σ=%g (clamped to [0,1])", std), false,
		func(x *tensor.Tensor) *tensor.Tensor { return data.AddNoise(x, std, opts.Seed).Clamp(0, 1) })
}

// MNISTToBlurred returns MNIST → MNIST blurred by a Gaussian of sigma pixels
// (data.GaussianBlur).
func MNISTToBlurred(opts PairOptions, sigma float64) (data.DomainPair, error) {
	if !(sigma >= 0) || math.IsInf(sigma, 0) {
		return data.DomainPair{}, fmt.Errorf("digits: MNISTToBlurred: sigma %v must be finite and non-negative", sigma)
	}
	return mnistShift(opts, fmt.Sprintf("mnist→blurred σ=%g", sigma), fmt.Sprintf("blur%g", sigma),
		fmt.Sprintf("target blurred by a Gaussian of σ=%g px", sigma), false,
		func(x *tensor.Tensor) *tensor.Tensor { return data.GaussianBlur(x, sigma) })
}

// MNISTToLowRes returns MNIST → MNIST at a lower resolution: each target
// image is shrunk to size×size by area averaging (data.ResizeArea) and
// enlarged back to 28×28 bilinearly (data.Resize), so both domains keep the
// same shape and the target has lost the detail finer than 28/size pixels.
func MNISTToLowRes(opts PairOptions, size int) (data.DomainPair, error) {
	if size < 1 || size > 28 {
		return data.DomainPair{}, fmt.Errorf("digits: MNISTToLowRes: size %d is outside [1, 28]", size)
	}
	return mnistShift(opts, fmt.Sprintf("mnist→%dx%d", size, size), fmt.Sprintf("res%d", size),
		fmt.Sprintf("target at resolution %d×%d, enlarged back to 28×28", size, size), false,
		func(x *tensor.Tensor) *tensor.Tensor {
			return data.Resize(data.ResizeArea(x, size, size), x.Dim(2), x.Dim(3))
		})
}

// MNISTToMNISTM returns MNIST → an MNIST-M-like target made offline: the
// source is MNIST's training images as three identical colour channels
// (data.ToRGB), the target its test images blended with procedural colour
// textures as |texture − image| (data.BlendBackground, seeded by opts.Seed).
// Shapes (N, 3, 28, 28).
func MNISTToMNISTM(opts PairOptions) (data.DomainPair, error) {
	return mnistShift(opts, "mnist→mnist-m", "m",
		"target blended with colour textures as |texture − digit| (MNIST-M-like, textures instead of photos)", true,
		func(x *tensor.Tensor) *tensor.Tensor { return data.BlendBackground(x, opts.Seed) })
}
