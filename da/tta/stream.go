package tta

import (
	"fmt"
	"math"
	"sort"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/tensor"
)

// Corruption is a named shift of the inputs, applied to one batch at a time.
type Corruption struct {
	// Name labels the corruption in tables ("noise 0.3", say).
	Name string
	// Images says that Apply needs images (N, C, H, W).
	Images bool
	// Apply returns the corrupted copy of x; seed drives any randomness.
	Apply func(x *tensor.Tensor, seed uint64) *tensor.Tensor
}

// Clean is the identity corruption.
func Clean() Corruption {
	return Corruption{Name: "clean", Apply: func(x *tensor.Tensor, _ uint64) *tensor.Tensor { return x.Clone() }}
}

// Noise adds Gaussian noise of standard deviation std (data.AddNoise).
func Noise(std float64) Corruption {
	return Corruption{Name: fmt.Sprintf("noise %g", std), Apply: func(x *tensor.Tensor, seed uint64) *tensor.Tensor {
		return data.AddNoise(x, std, seed)
	}}
}

// Blur blurs images by a Gaussian of sigma pixels (data.GaussianBlur).
func Blur(sigma float64) Corruption {
	return Corruption{Name: fmt.Sprintf("blur %g", sigma), Images: true, Apply: func(x *tensor.Tensor, _ uint64) *tensor.Tensor {
		return data.GaussianBlur(x, sigma)
	}}
}

// Rotation rotates images by degrees (data.Rotate).
func Rotation(degrees float64) Corruption {
	return Corruption{Name: fmt.Sprintf("rotate %g°", degrees), Images: true, Apply: func(x *tensor.Tensor, _ uint64) *tensor.Tensor {
		return data.Rotate(x, degrees)
	}}
}

// Contrast scales each example's deviation from its own mean by factor:
// x ← mean + factor·(x − mean), the mean taken over the example.
func Contrast(factor float64) Corruption {
	return Corruption{Name: fmt.Sprintf("contrast %g", factor), Apply: func(x *tensor.Tensor, _ uint64) *tensor.Tensor {
		out := x.Clone()
		n := x.Dim(0)
		d := out.Data()
		per := len(d) / n
		for i := 0; i < n; i++ {
			row := d[i*per : (i+1)*per]
			var m float64
			for _, v := range row {
				m += float64(v)
			}
			m /= float64(per)
			for j, v := range row {
				row[j] = float32(m + factor*(float64(v)-m))
			}
		}
		return out
	}}
}

// Brightness adds delta to every value.
func Brightness(delta float64) Corruption {
	return Corruption{Name: fmt.Sprintf("brightness %+g", delta), Apply: func(x *tensor.Tensor, _ uint64) *tensor.Tensor {
		return x.AddScalar(float32(delta))
	}}
}

// StreamOptions are the settings of NewStream.
type StreamOptions struct {
	// BatchSize is the number of examples per test batch (0: 64); a last
	// batch of a single example joins the one before it.
	BatchSize int
	// Samples is the number of examples drawn (without replacement) for
	// each corruption (0, or more than the dataset holds: all of them).
	Samples int
	// Seed shuffles the examples and seeds the corruptions.
	Seed uint64
	// ByClass orders each corruption's examples by class, so that each
	// batch holds one or two classes: a non-i.i.d. stream, on which
	// batch statistics mislead and LAME's smoothing helps.
	ByClass bool
}

// StreamBatch is one labelled test batch of a stream.
type StreamBatch struct {
	X          *tensor.Tensor // the inputs, corrupted
	Labels     []int          // their classes, for scoring only
	Corruption string         // the name of the corruption applied
}

// Stream is a sequence of labelled target batches whose distribution shifts
// along it, such as a dataset under one corruption after another. Labels are
// used only to score the predictions.
type Stream struct {
	Name        string        // the dataset's name
	Batches     []StreamBatch // in the order a method sees them
	Corruptions []string      // the corruptions' names, in stream order
}

// NewStream returns the stream of ds under each corruption in turn: for each,
// a fresh shuffle of the examples, corrupted and cut into batches. It returns
// an error for an empty or unlabelled dataset, no corruptions, a corruption
// without a function or needing images that ds does not hold, or a
// corruption that yields NaN.
func NewStream(ds *data.Dataset, corruptions []Corruption, opt StreamOptions) (*Stream, error) {
	if ds == nil || ds.X == nil || ds.Len() == 0 {
		return nil, fmt.Errorf("tta.NewStream: dataset is empty")
	}
	if len(ds.Labels) != ds.Len() {
		return nil, fmt.Errorf("tta.NewStream: dataset %q has %d labels for %d examples; a stream is scored by its labels", ds.Name, len(ds.Labels), ds.Len())
	}
	if len(corruptions) == 0 {
		return nil, fmt.Errorf("tta.NewStream: no corruptions (use tta.Clean() for the unshifted data)")
	}
	if opt.BatchSize < 0 || opt.Samples < 0 {
		return nil, fmt.Errorf("tta.NewStream: batch size %d and samples %d must not be negative", opt.BatchSize, opt.Samples)
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = 64
	}
	n := ds.Len()
	if opt.Samples == 0 || opt.Samples > n {
		opt.Samples = n
	}
	s := &Stream{Name: ds.Name}
	for ci, c := range corruptions {
		if c.Apply == nil {
			return nil, fmt.Errorf("tta.NewStream: corruption %d (%q) has no Apply function", ci, c.Name)
		}
		if c.Images && ds.X.Dims() != 4 {
			return nil, fmt.Errorf("tta.NewStream: corruption %q needs images (N, C, H, W); dataset %q holds %s", c.Name, ds.Name, tensor.FormatShape(ds.X.Shape()))
		}
		perm := tensor.NewRNG(opt.Seed + uint64(ci)*7919).Perm(n)[:opt.Samples]
		if opt.ByClass {
			sort.SliceStable(perm, func(a, b int) bool { return ds.Labels[perm[a]] < ds.Labels[perm[b]] })
		}
		s.Corruptions = append(s.Corruptions, c.Name)
		for lo := 0; lo < len(perm); lo += opt.BatchSize {
			hi := min(lo+opt.BatchSize, len(perm))
			if len(perm)-hi == 1 {
				hi = len(perm)
			}
			idx := perm[lo:hi]
			x := c.Apply(ds.X.IndexSelect(0, idx), opt.Seed*1000003+uint64(ci)*1009+uint64(lo))
			for _, v := range x.Data() {
				if math.IsNaN(float64(v)) {
					return nil, fmt.Errorf("tta.NewStream: corruption %q produced NaN", c.Name)
				}
			}
			labels := make([]int, len(idx))
			for i, j := range idx {
				labels[i] = ds.Labels[j]
			}
			s.Batches = append(s.Batches, StreamBatch{X: x, Labels: labels, Corruption: c.Name})
			lo = hi - opt.BatchSize
		}
	}
	return s, nil
}

// String summarises the stream.
func (s *Stream) String() string {
	rows := 0
	for _, b := range s.Batches {
		rows += b.X.Dim(0)
	}
	return fmt.Sprintf("stream %q: %d batches, %d examples, corruptions %v", s.Name, len(s.Batches), rows, s.Corruptions)
}
