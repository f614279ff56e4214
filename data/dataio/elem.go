package dataio

import (
	"encoding/binary"
	"fmt"
	"math"
)

// elemType describes how one array element is stored: its kind ('f' float,
// 'i' signed integer, 'u' unsigned integer, 'b' boolean), its size in bytes
// and its byte order.
type elemType struct {
	kind byte
	size int
	big  bool
}

func (e elemType) String() string {
	order := "little-endian"
	if e.big {
		order = "big-endian"
	}
	switch e.kind {
	case 'b':
		return "bool"
	case 'f':
		return fmt.Sprintf("float%d (%s)", 8*e.size, order)
	case 'i':
		return fmt.Sprintf("int%d (%s)", 8*e.size, order)
	default:
		return fmt.Sprintf("uint%d (%s)", 8*e.size, order)
	}
}

func (e elemType) order() binary.ByteOrder {
	if e.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// isInteger reports whether elements are integers (booleans count as 0/1).
func (e elemType) isInteger() bool { return e.kind != 'f' }

// float64At returns element i of raw as a float64.
func (e elemType) float64At(raw []byte, i int) float64 {
	b := raw[i*e.size : (i+1)*e.size]
	o := e.order()
	switch e.kind {
	case 'b':
		if b[0] != 0 {
			return 1
		}
		return 0
	case 'f':
		switch e.size {
		case 2:
			return float64(halfToFloat32(o.Uint16(b)))
		case 4:
			return float64(math.Float32frombits(o.Uint32(b)))
		default:
			return math.Float64frombits(o.Uint64(b))
		}
	case 'i':
		switch e.size {
		case 1:
			return float64(int8(b[0]))
		case 2:
			return float64(int16(o.Uint16(b)))
		case 4:
			return float64(int32(o.Uint32(b)))
		default:
			return float64(int64(o.Uint64(b)))
		}
	default:
		switch e.size {
		case 1:
			return float64(b[0])
		case 2:
			return float64(o.Uint16(b))
		case 4:
			return float64(o.Uint32(b))
		default:
			return float64(o.Uint64(b))
		}
	}
}

// toFloat32 converts the elements of raw to float32, each correctly rounded
// (integers of more than 24 bits may round).
func (e elemType) toFloat32(raw []byte) []float32 {
	n := len(raw) / e.size
	out := make([]float32, n)
	if e.kind == 'f' && e.size == 4 {
		o := e.order()
		for i := range out {
			out[i] = math.Float32frombits(o.Uint32(raw[4*i:]))
		}
		return out
	}
	if e.kind == 'u' && e.size == 1 {
		for i, b := range raw {
			out[i] = float32(b)
		}
		return out
	}
	if e.size == 8 && e.kind != 'f' {
		// Straight to float32: through float64 would round twice.
		o := e.order()
		for i := range out {
			u := o.Uint64(raw[8*i:])
			if e.kind == 'i' {
				out[i] = float32(int64(u))
			} else {
				out[i] = float32(u)
			}
		}
		return out
	}
	for i := range out {
		out[i] = float32(e.float64At(raw, i))
	}
	return out
}

// toInts converts the elements of raw to ints. Floating-point elements are
// accepted when they hold whole numbers. On failure it returns the index of
// the offending element and a description of its value.
func (e elemType) toInts(raw []byte) (out []int, bad int, why string) {
	n := len(raw) / e.size
	out = make([]int, n)
	o := e.order()
	for i := range out {
		b := raw[i*e.size : (i+1)*e.size]
		switch {
		case e.kind == 'u' && e.size == 8:
			v := o.Uint64(b)
			if v > math.MaxInt64 {
				return nil, i, fmt.Sprintf("value %d does not fit an int", v)
			}
			out[i] = int(v)
		case e.kind == 'i' && e.size == 8:
			out[i] = int(int64(o.Uint64(b)))
		case e.kind == 'f':
			v := e.float64At(raw, i)
			if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
				return nil, i, fmt.Sprintf("value %v is not a whole number", v)
			}
			out[i] = int(v)
		default:
			out[i] = int(e.float64At(raw, i))
		}
	}
	return out, -1, ""
}

// put stores v as element i of raw. It returns a description of the problem
// when v cannot be stored exactly in an integer type (not a whole number, or
// out of range).
func (e elemType) put(raw []byte, i int, v float64) string {
	b := raw[i*e.size : (i+1)*e.size]
	o := e.order()
	if e.kind == 'f' {
		switch e.size {
		case 4:
			o.PutUint32(b, math.Float32bits(float32(v)))
		case 8:
			o.PutUint64(b, math.Float64bits(v))
		default:
			return fmt.Sprintf("cannot write %s", e)
		}
		return ""
	}
	if v != math.Trunc(v) {
		return fmt.Sprintf("value %v is not a whole number, as %s needs", v, e)
	}
	lo, end := e.intRange()
	if v < lo || v >= end {
		return fmt.Sprintf("value %v is outside the range [%v, %v] of %s", v, lo, end-1, e)
	}
	switch e.size {
	case 1:
		b[0] = byte(int64(v))
	case 2:
		o.PutUint16(b, uint16(int64(v)))
	case 4:
		o.PutUint32(b, uint32(int64(v)))
	default:
		o.PutUint64(b, uint64(int64(v)))
	}
	return ""
}

// intRange returns the smallest value of an integer type and the power of
// two just above its largest (exact in float64, unlike the largest itself
// for 64-bit types).
func (e elemType) intRange() (lo, end float64) {
	bits := 8 * e.size
	switch e.kind {
	case 'b':
		return 0, 2
	case 'u':
		return 0, math.Ldexp(1, bits)
	default:
		return -math.Ldexp(1, bits-1), math.Ldexp(1, bits-1)
	}
}

// halfToFloat32 converts an IEEE 754 half-precision value to float32.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		v := float32(math.Ldexp(float64(frac), -24))
		if sign != 0 {
			v = -v
		}
		return v
	default:
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	}
}
