//go:build amd64 && !purego

#include "textflag.h"

// HSUM stores the sum of the four lanes of Y (whose low half is X) at dst,
// using X4.
#define HSUM(Y, X, dst) \
	VEXTRACTF128 $1, Y, X4 \
	VADDPD X4, X, X        \
	VHADDPD X, X, X        \
	VMOVSD X, dst

// func dot4AVX(k0, k1, k2, k3, v *float64, n int) (s0, s1, s2, s3 float64)
TEXT ·dot4AVX(SB), NOSPLIT, $0-80
	MOVQ k0+0(FP), R8
	MOVQ k1+8(FP), R9
	MOVQ k2+16(FP), R10
	MOVQ k3+24(FP), R11
	MOVQ v+32(FP), SI
	MOVQ n+40(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ AX, AX

dotloop:
	CMPQ AX, CX
	JGE  dotdone
	VMOVUPD (SI)(AX*8), Y4
	VFMADD231PD (R8)(AX*8), Y4, Y0
	VFMADD231PD (R9)(AX*8), Y4, Y1
	VFMADD231PD (R10)(AX*8), Y4, Y2
	VFMADD231PD (R11)(AX*8), Y4, Y3
	ADDQ $4, AX
	JMP  dotloop

dotdone:
	HSUM(Y0, X0, s0+48(FP))
	HSUM(Y1, X1, s1+56(FP))
	HSUM(Y2, X2, s2+64(FP))
	HSUM(Y3, X3, s3+72(FP))
	VZEROUPPER
	RET

// func axpy4AVX(y *float64, u0, u1, u2, u3 float64, k0, k1, k2, k3 *float64, n int)
TEXT ·axpy4AVX(SB), NOSPLIT, $0-80
	MOVQ y+0(FP), DI
	VBROADCASTSD u0+8(FP), Y0
	VBROADCASTSD u1+16(FP), Y1
	VBROADCASTSD u2+24(FP), Y2
	VBROADCASTSD u3+32(FP), Y3
	MOVQ k0+40(FP), R8
	MOVQ k1+48(FP), R9
	MOVQ k2+56(FP), R10
	MOVQ k3+64(FP), R11
	MOVQ n+72(FP), CX
	XORQ AX, AX

axpyloop:
	CMPQ AX, CX
	JGE  axpydone
	VMOVUPD (DI)(AX*8), Y4
	VFMADD231PD (R8)(AX*8), Y0, Y4
	VFMADD231PD (R9)(AX*8), Y1, Y4
	VFMADD231PD (R10)(AX*8), Y2, Y4
	VFMADD231PD (R11)(AX*8), Y3, Y4
	VMOVUPD Y4, (DI)(AX*8)
	ADDQ $4, AX
	JMP  axpyloop

axpydone:
	VZEROUPPER
	RET
