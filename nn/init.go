package nn

import (
	"fmt"
	"math"

	"github.com/graftml/graft/tensor"
)

// Fans returns PyTorch's fan-in and fan-out of a weight tensor: for shape
// (out, in, k…), fan_in = in·Πk and fan_out = out·Πk. It panics for fewer than 2 dimensions.
func Fans(t *tensor.Tensor) (fanIn, fanOut int) {
	s := t.Shape()
	if len(s) < 2 {
		panic(fmt.Sprintf("init: fan in and fan out need at least 2 dimensions, got %s", tensor.FormatShape(s)))
	}
	receptive := 1
	for _, d := range s[2:] {
		receptive *= d
	}
	return s[1] * receptive, s[0] * receptive
}

// Gain returns the recommended scaling for a nonlinearity, as PyTorch's
// calculate_gain: "linear", "conv2d", "sigmoid" 1; "tanh" 5/3; "relu" √2;
// "leaky_relu" √(2/(1+slope²)); "selu" 3/4.
func Gain(nonlinearity string, slope float64) float64 {
	switch nonlinearity {
	case "linear", "conv1d", "conv2d", "sigmoid", "identity":
		return 1
	case "tanh":
		return 5.0 / 3
	case "relu":
		return math.Sqrt2
	case "leaky_relu":
		return math.Sqrt(2 / (1 + slope*slope))
	case "selu":
		return 0.75
	}
	panic(fmt.Sprintf("init: unknown nonlinearity %q (want linear, sigmoid, tanh, relu, leaky_relu or selu)", nonlinearity))
}

func fanFor(t *tensor.Tensor, mode string) int {
	in, out := Fans(t)
	switch mode {
	case "fan_in", "":
		return in
	case "fan_out":
		return out
	}
	panic(fmt.Sprintf("init: mode %q is not fan_in or fan_out", mode))
}

func fillUniform(t *tensor.Tensor, r tensor.Rand, bound float64) {
	d := t.Data()
	for i := range d {
		d[i] = float32((r.Float64()*2 - 1) * bound)
	}
}

func fillNormal(t *tensor.Tensor, r tensor.Rand, mean, std float64) {
	d := t.Data()
	for i := range d {
		d[i] = float32(mean + std*r.NormFloat64())
	}
}

// KaimingUniform fills t in place from U(−b, b) with b = gain·√(3/fan), as
// PyTorch's kaiming_uniform_ (a: negative slope for leaky_relu; mode "fan_in" or "fan_out").
// It returns t.
func KaimingUniform(t *tensor.Tensor, r tensor.Rand, a float64, mode, nonlinearity string) *tensor.Tensor {
	fillUniform(t, r, Gain(nonlinearity, a)*math.Sqrt(3/float64(fanFor(t, mode))))
	return t
}

// KaimingNormal fills t in place from N(0, (gain/√fan)²), as PyTorch's kaiming_normal_. It returns t.
func KaimingNormal(t *tensor.Tensor, r tensor.Rand, a float64, mode, nonlinearity string) *tensor.Tensor {
	fillNormal(t, r, 0, Gain(nonlinearity, a)/math.Sqrt(float64(fanFor(t, mode))))
	return t
}

// XavierUniform fills t in place from U(−b, b), b = gain·√(6/(fan_in+fan_out)). It returns t.
func XavierUniform(t *tensor.Tensor, r tensor.Rand, gain float64) *tensor.Tensor {
	in, out := Fans(t)
	fillUniform(t, r, gain*math.Sqrt(6/float64(in+out)))
	return t
}

// XavierNormal fills t in place from N(0, gain²·2/(fan_in+fan_out)). It returns t.
func XavierNormal(t *tensor.Tensor, r tensor.Rand, gain float64) *tensor.Tensor {
	in, out := Fans(t)
	fillNormal(t, r, 0, gain*math.Sqrt(2/float64(in+out)))
	return t
}

// NormalInit fills t in place from N(mean, std²). It returns t.
func NormalInit(t *tensor.Tensor, r tensor.Rand, mean, std float64) *tensor.Tensor {
	fillNormal(t, r, mean, std)
	return t
}

// UniformInit fills t in place from U(lo, hi). It returns t.
func UniformInit(t *tensor.Tensor, r tensor.Rand, lo, hi float64) *tensor.Tensor {
	d := t.Data()
	for i := range d {
		d[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return t
}

// ZerosInit sets t to zero in place. It returns t.
func ZerosInit(t *tensor.Tensor) *tensor.Tensor { return t.Fill(0) }

// ConstantInit sets every element of t to v in place. It returns t.
func ConstantInit(t *tensor.Tensor, v float32) *tensor.Tensor { return t.Fill(v) }

// param makes a fresh trainable parameter of the given shape.
func param(shape ...int) *tensor.Tensor { return tensor.Zeros(shape...).SetRequiresGrad(true) }
