package safetensors

import (
	"encoding/binary"
	"math"
)

// converters decode little-endian elements of each known dtype from src into
// dst; len(src) is len(dst) times the dtype's element size.
var converters = map[string]func(dst []float32, src []byte){
	"F64": func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	},
	"F32": func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	},
	"F16": func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = f16ToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	},
	"BF16": func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	},
	"I64": func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(int64(binary.LittleEndian.Uint64(src[8*i:])))
		}
	},
	"I32": func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(int32(binary.LittleEndian.Uint32(src[4*i:])))
		}
	},
	"I16": func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(int16(binary.LittleEndian.Uint16(src[2*i:])))
		}
	},
	"I8": func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(int8(src[i]))
		}
	},
	"U8": func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(src[i])
		}
	},
	"BOOL": func(dst []float32, src []byte) {
		for i := range dst {
			if src[i] != 0 {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
		}
	},
}

// f16ToFloat32 converts an IEEE 754 binary16 value to float32 exactly,
// including subnormals, infinities and NaNs (whose payload is kept).
func f16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0:
		// Zero or subnormal: mant * 2^-24, exact in float32.
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(v))
	case 0x1f:
		// Infinity (mant == 0) or NaN.
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
