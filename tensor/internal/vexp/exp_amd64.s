//go:build amd64 && !purego

#include "textflag.h"

// VEC8 defines a 32-byte read-only constant: eight copies of a float32's bits.
#define VEC8(name, bits) \
	DATA name<>+0(SB)/4, $bits  \
	DATA name<>+4(SB)/4, $bits  \
	DATA name<>+8(SB)/4, $bits  \
	DATA name<>+12(SB)/4, $bits \
	DATA name<>+16(SB)/4, $bits \
	DATA name<>+20(SB)/4, $bits \
	DATA name<>+24(SB)/4, $bits \
	DATA name<>+28(SB)/4, $bits \
	GLOBL name<>(SB), RODATA|NOPTR, $32

// The polynomial's coefficients c6…c2 (exp.go), read as memory operands.
VEC8(c6, 0x3AB6BB08)
VEC8(c5, 0x3C093842)
VEC8(c4, 0x3D2AAA56)
VEC8(c3, 0x3E2AAA01)
VEC8(c2, 0x3F000000)

// zeroBelow (exp.go), compared with as a memory operand.
VEC8(zthr, 0xC2CFF22D)

// Scalars broadcast into registers: minArg −110, maxArg 89, log2e, ln2Hi,
// ln2Lo, 1 and the exponent bias 127 (an int32).
DATA consts<>+0(SB)/4, $0xC2DC0000
DATA consts<>+4(SB)/4, $0x42B20000
DATA consts<>+8(SB)/4, $0x3FB8AA3B
DATA consts<>+12(SB)/4, $0x3F318000
DATA consts<>+16(SB)/4, $0xB95E8083
DATA consts<>+20(SB)/4, $0x3F800000
DATA consts<>+24(SB)/4, $0x0000007F
GLOBL consts<>(SB), RODATA|NOPTR, $28

// Every instruction is VEX-encoded: a legacy SSE instruction while the upper
// halves of the Y registers are live costs a state transition (measured at
// about a microsecond per call under virtualisation).

// func expSumAsm(dst, src *float32, n int, shift float32) float64
//
// Each step of eight lanes: x = clamp(src − shift) (NaN kept), n = round(x·log2e),
// r = x − n·ln2Hi − n·ln2Lo, p = 1 + r + r²·(c2 + r·(c3 + …)), y = p·2^⌊n/2⌋·2^(n−⌊n/2⌋)
// (0 where x < zeroBelow), and the eight results are added, as float64, to
// two accumulators.
TEXT ·expSumAsm(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS shift+24(FP), Y0
	VBROADCASTSS consts<>+0(SB), Y1        // minArg −110
	VBROADCASTSS consts<>+4(SB), Y2        // maxArg 89
	VBROADCASTSS consts<>+8(SB), Y3        // log2e
	VBROADCASTSS consts<>+12(SB), Y4       // ln2Hi
	VBROADCASTSS consts<>+16(SB), Y5       // ln2Lo
	VBROADCASTSS consts<>+20(SB), Y6       // 1
	VBROADCASTSS consts<>+24(SB), Y7       // exponent bias 127
	VXORPD       Y8, Y8, Y8
	VXORPD       Y9, Y9, Y9

loop:
	VMOVUPS      (SI), Y10
	VSUBPS       Y0, Y10, Y10
	VMAXPS       Y10, Y1, Y10      // max(minArg, x): x where x is NaN
	VMINPS       Y10, Y2, Y10      // min(maxArg, x): likewise
	VMULPS       Y3, Y10, Y12
	VCVTPS2DQ    Y12, Y11          // n, rounded to nearest
	VCVTDQ2PS    Y11, Y12
	VMOVAPS      Y10, Y13
	VFNMADD231PS Y4, Y12, Y13      // r = x − n·ln2Hi (exact)
	VFNMADD231PS Y5, Y12, Y13      // r −= n·ln2Lo
	VCMPPS       $0x1D, zthr<>(SB), Y10, Y12 // x ≥ zeroBelow (false for NaN)
	VMOVUPS      c6<>(SB), Y14
	VFMADD213PS  c5<>(SB), Y13, Y14
	VFMADD213PS  c4<>(SB), Y13, Y14
	VFMADD213PS  c3<>(SB), Y13, Y14
	VFMADD213PS  c2<>(SB), Y13, Y14
	VMULPS       Y13, Y13, Y15
	VFMADD213PS  Y13, Y15, Y14     // p = r²·q + r
	VADDPS       Y6, Y14, Y14      // p += 1
	VPSRAD       $1, Y11, Y15      // n1 = ⌊n/2⌋
	VPSUBD       Y15, Y11, Y11     // n2 = n − n1
	VPADDD       Y7, Y15, Y15
	VPSLLD       $23, Y15, Y15     // 2^n1
	VMULPS       Y15, Y14, Y14
	VPADDD       Y7, Y11, Y11
	VPSLLD       $23, Y11, Y11     // 2^n2
	VANDPS       Y12, Y11, Y11     // 0 where x < zeroBelow: p·2^n1·0 = 0 without underflow, NaN·0 = NaN
	VMULPS       Y11, Y14, Y14
	VMOVUPS      Y14, (DI)
	VCVTPS2PD    X14, Y15
	VADDPD       Y15, Y8, Y8
	VEXTRACTF128 $1, Y14, X14
	VCVTPS2PD    X14, Y15
	VADDPD       Y15, Y9, Y9
	ADDQ         $32, SI
	ADDQ         $32, DI
	SUBQ         $8, CX
	JNZ          loop

	VADDPD       Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPD       X9, X8, X8
	VHADDPD      X8, X8, X8
	VMOVSD       X8, ret+32(FP)
	VZEROUPPER
	RET

// func maxAsm(x *float32, n int) float32
//
// VMAXPS keeps a running maximum of each lane (its NaN rule does not
// propagate NaN, so an unordered self-comparison of every vector collects
// NaN lanes in Y2 apart); then the eight lanes are reduced.
TEXT ·maxAsm(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VMOVUPS      (SI), Y0
	VCMPPS       $3, Y0, Y0, Y2    // unordered: NaN lanes
	ADDQ         $32, SI
	SUBQ         $8, CX
	JZ           reduce

maxloop:
	VMOVUPS      (SI), Y1
	VMAXPS       Y1, Y0, Y0
	VCMPPS       $3, Y1, Y1, Y3
	VORPS        Y3, Y2, Y2
	ADDQ         $32, SI
	SUBQ         $8, CX
	JNZ          maxloop

reduce:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4E, X0, X1     // swap the 64-bit halves
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xB1, X0, X1     // swap neighbours
	VMAXPS       X1, X0, X0
	VMOVMSKPS    Y2, AX
	TESTL        AX, AX
	JNZ          nan
	VMOVSS       X0, ret+16(FP)
	VZEROUPPER
	RET

nan:
	MOVL         $0x7FC00000, ret+16(FP)
	VZEROUPPER
	RET
