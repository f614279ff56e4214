//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() uint32
TEXT ·xgetbv(SB), NOSPLIT, $0-4
	MOVL $0, CX
	BYTE $0x0f; BYTE $0x01; BYTE $0xd0 // XGETBV
	MOVL AX, ret+0(FP)
	RET

// STEP does one k step of the 6×16 tile: B row in Y12:Y13 (offsets b0, b1
// from BX), A's six values broadcast in turn from offsets a0…a5 from AX into
// Y14/Y15, accumulating into Y0…Y11 (row r in Y(2r), Y(2r+1)).
#define STEP(b0, b1, a0, a1, a2, a3, a4, a5) \
	VMOVUPS      b0(BX), Y12      \
	VMOVUPS      b1(BX), Y13      \
	VBROADCASTSS a0(AX), Y14      \
	VFMADD231PS  Y12, Y14, Y0     \
	VFMADD231PS  Y13, Y14, Y1     \
	VBROADCASTSS a1(AX), Y15      \
	VFMADD231PS  Y12, Y15, Y2     \
	VFMADD231PS  Y13, Y15, Y3     \
	VBROADCASTSS a2(AX), Y14      \
	VFMADD231PS  Y12, Y14, Y4     \
	VFMADD231PS  Y13, Y14, Y5     \
	VBROADCASTSS a3(AX), Y15      \
	VFMADD231PS  Y12, Y15, Y6     \
	VFMADD231PS  Y13, Y15, Y7     \
	VBROADCASTSS a4(AX), Y14      \
	VFMADD231PS  Y12, Y14, Y8     \
	VFMADD231PS  Y13, Y14, Y9     \
	VBROADCASTSS a5(AX), Y15      \
	VFMADD231PS  Y12, Y15, Y10    \
	VFMADD231PS  Y13, Y15, Y11

// ROWB writes one row of the tile with beta: C = acc + beta·C (acc already
// scaled by alpha; beta in Y15), then moves DX to the next row.
#define ROWB(lo, hi) \
	VFMADD231PS (DX), Y15, lo     \
	VMOVUPS     lo, (DX)          \
	VFMADD231PS 32(DX), Y15, hi   \
	VMOVUPS     hi, 32(DX)        \
	ADDQ        R8, DX

// ROW0 writes one row of the tile without reading C.
#define ROW0(lo, hi) \
	VMOVUPS lo, (DX)   \
	VMOVUPS hi, 32(DX) \
	ADDQ    R8, DX

// func Kernel6x16(k int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·Kernel6x16(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

loop4:
	CMPQ CX, $4
	JLT  tail
	PREFETCHT0 512(BX)
	STEP(0, 32, 0, 4, 8, 12, 16, 20)
	STEP(64, 96, 24, 28, 32, 36, 40, 44)
	PREFETCHT0 576(BX)
	STEP(128, 160, 48, 52, 56, 60, 64, 68)
	STEP(192, 224, 72, 76, 80, 84, 88, 92)
	ADDQ $96, AX
	ADDQ $256, BX
	SUBQ $4, CX
	JMP  loop4

tail:
	TESTQ CX, CX
	JZ    epilogue
	STEP(0, 32, 0, 4, 8, 12, 16, 20)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JMP  tail

epilogue:
	VBROADCASTSS alpha+40(FP), Y14
	VMULPS Y14, Y0, Y0
	VMULPS Y14, Y1, Y1
	VMULPS Y14, Y2, Y2
	VMULPS Y14, Y3, Y3
	VMULPS Y14, Y4, Y4
	VMULPS Y14, Y5, Y5
	VMULPS Y14, Y6, Y6
	VMULPS Y14, Y7, Y7
	VMULPS Y14, Y8, Y8
	VMULPS Y14, Y9, Y9
	VMULPS Y14, Y10, Y10
	VMULPS Y14, Y11, Y11
	MOVL  beta+44(FP), R9
	TESTL $0x7fffffff, R9 // beta == ±0: C is not read
	JZ    store0
	VBROADCASTSS beta+44(FP), Y15
	ROWB(Y0, Y1)
	ROWB(Y2, Y3)
	ROWB(Y4, Y5)
	ROWB(Y6, Y7)
	ROWB(Y8, Y9)
	ROWB(Y10, Y11)
	VZEROUPPER
	RET

store0:
	ROW0(Y0, Y1)
	ROW0(Y2, Y3)
	ROW0(Y4, Y5)
	ROW0(Y6, Y7)
	ROW0(Y8, Y9)
	ROW0(Y10, Y11)
	VZEROUPPER
	RET
