//go:build amd64 && !purego

#include "textflag.h"

// FMAROW accumulates A value (broadcast in Y14 or Y15) times the B row in
// Y12:Y13 into one row of accumulators.
#define FMAROW(bc, lo, hi) \
	VFMADD231PS Y12, bc, lo \
	VFMADD231PS Y13, bc, hi

// LOADB loads B's 16-float row at BX into Y12:Y13, prefetches the row eight
// ahead (both cache lines it may span) and moves BX on by R11 bytes (the B
// stride).
#define LOADB \
	VMOVUPS    (BX), Y12           \
	VMOVUPS    32(BX), Y13         \
	PREFETCHT0 (BX)(R11*8)         \
	PREFETCHT0 63(BX)(R11*8)       \
	ADDQ       R11, BX

// STEPP does one k step with a packed A panel: A's six values at offsets
// a0…a5 from AX; accumulators Y0…Y11 (row r in Y(2r), Y(2r+1)).
#define STEPP(a0, a1, a2, a3, a4, a5) \
	LOADB                       \
	VBROADCASTSS a0(AX), Y14    \
	FMAROW(Y14, Y0, Y1)         \
	VBROADCASTSS a1(AX), Y15    \
	FMAROW(Y15, Y2, Y3)         \
	VBROADCASTSS a2(AX), Y14    \
	FMAROW(Y14, Y4, Y5)         \
	VBROADCASTSS a3(AX), Y15    \
	FMAROW(Y15, Y6, Y7)         \
	VBROADCASTSS a4(AX), Y14    \
	FMAROW(Y14, Y8, Y9)         \
	VBROADCASTSS a5(AX), Y15    \
	FMAROW(Y15, Y10, Y11)

// STEPR does one k step with A read in place from six rows: rows 0, 1, 2, 4
// at AX + {0, 1, 2, 4}·R9 and rows 3, 5 at R10 + {0, 2}·R9 (R9 = lda bytes,
// R10 = AX + 3·R9), all at byte offset o.
#define STEPR(o) \
	LOADB                            \
	VBROADCASTSS o(AX), Y14          \
	FMAROW(Y14, Y0, Y1)              \
	VBROADCASTSS o(AX)(R9*1), Y15    \
	FMAROW(Y15, Y2, Y3)              \
	VBROADCASTSS o(AX)(R9*2), Y14    \
	FMAROW(Y14, Y4, Y5)              \
	VBROADCASTSS o(R10), Y15         \
	FMAROW(Y15, Y6, Y7)              \
	VBROADCASTSS o(AX)(R9*4), Y14    \
	FMAROW(Y14, Y8, Y9)              \
	VBROADCASTSS o(R10)(R9*2), Y15   \
	FMAROW(Y15, Y10, Y11)

// ROWB writes one row of the tile with beta: C = acc + beta·C (acc already
// scaled by alpha; beta in Y15), then moves DX to the next row.
#define ROWB(lo, hi) \
	VFMADD231PS (DX), Y15, lo   \
	VMOVUPS     lo, (DX)        \
	VFMADD231PS 32(DX), Y15, hi \
	VMOVUPS     hi, 32(DX)      \
	ADDQ        R8, DX

// ROW0 writes one row of the tile without reading C.
#define ROW0(lo, hi) \
	VMOVUPS lo, (DX)   \
	VMOVUPS hi, 32(DX) \
	ADDQ    R8, DX

// SCALE6 multiplies the six-row tile's accumulators Y0…Y11 by alpha,
// broadcast in Y14.
#define SCALE6 \
	VMULPS Y14, Y0, Y0   \
	VMULPS Y14, Y1, Y1   \
	VMULPS Y14, Y2, Y2   \
	VMULPS Y14, Y3, Y3   \
	VMULPS Y14, Y4, Y4   \
	VMULPS Y14, Y5, Y5   \
	VMULPS Y14, Y6, Y6   \
	VMULPS Y14, Y7, Y7   \
	VMULPS Y14, Y8, Y8   \
	VMULPS Y14, Y9, Y9   \
	VMULPS Y14, Y10, Y10 \
	VMULPS Y14, Y11, Y11

// STORE6 writes the six-row tile's rows with row (ROWB: beta·C added,
// ROW0: C overwritten) and returns.
#define STORE6(row) \
	row(Y0, Y1)   \
	row(Y2, Y3)   \
	row(Y4, Y5)   \
	row(Y6, Y7)   \
	row(Y8, Y9)   \
	row(Y10, Y11) \
	VZEROUPPER    \
	RET

// func Kernel6x16(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
TEXT ·Kernel6x16(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ ldb+24(FP), R11
	SHLQ $2, R11
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
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

ploop4:
	CMPQ CX, $4
	JLT  ptail
	STEPP(0, 4, 8, 12, 16, 20)
	STEPP(24, 28, 32, 36, 40, 44)
	STEPP(48, 52, 56, 60, 64, 68)
	STEPP(72, 76, 80, 84, 88, 92)
	ADDQ $96, AX
	SUBQ $4, CX
	JMP  ploop4

ptail:
	TESTQ CX, CX
	JZ    pepilogue
	STEPP(0, 4, 8, 12, 16, 20)
	ADDQ $24, AX
	DECQ CX
	JMP  ptail

pepilogue:
	VBROADCASTSS alpha+48(FP), Y14
	SCALE6
	MOVL  beta+52(FP), R9
	TESTL $0x7fffffff, R9 // beta == ±0: C is not read
	JZ    pstore0
	VBROADCASTSS beta+52(FP), Y15
	STORE6(ROWB)

pstore0:
	STORE6(ROW0)

// func Kernel6x16RowA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
TEXT ·Kernel6x16RowA(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), R9
	SHLQ $2, R9
	LEAQ (AX)(R9*2), R10
	ADDQ R9, R10
	MOVQ b+24(FP), BX
	MOVQ ldb+32(FP), R11
	SHLQ $2, R11
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
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

rloop4:
	CMPQ CX, $4
	JLT  rtail
	STEPR(0)
	STEPR(4)
	STEPR(8)
	STEPR(12)
	ADDQ $16, AX
	ADDQ $16, R10
	SUBQ $4, CX
	JMP  rloop4

rtail:
	TESTQ CX, CX
	JZ    repilogue
	STEPR(0)
	ADDQ $4, AX
	ADDQ $4, R10
	DECQ CX
	JMP  rtail

repilogue:
	VBROADCASTSS alpha+56(FP), Y14
	SCALE6
	MOVL  beta+60(FP), R9
	TESTL $0x7fffffff, R9 // beta == ±0: C is not read
	JZ    rstore0
	VBROADCASTSS beta+60(FP), Y15
	STORE6(ROWB)

rstore0:
	STORE6(ROW0)

// func Transpose8(dst, src *float32, ld, n int)
//
// For p in [0, n) (n a multiple of 8) and j in [0, 8):
// dst[p*16+j] = src[j*ld+p], by 8×8 in-register transposes.
TEXT ·Transpose8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ n+24(FP), CX
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9         // row 3
	LEAQ (R9)(R8*2), R10
	ADDQ R8, R10        // row 6

tloop:
	CMPQ CX, $8
	JLT  tdone
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (R9), Y3
	VMOVUPS (SI)(R8*4), Y4
	VMOVUPS (R9)(R8*2), Y5
	VMOVUPS (R10), Y6
	VMOVUPS (R10)(R8*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 64(DI)
	VMOVUPS Y10, 128(DI)
	VMOVUPS Y11, 192(DI)
	VMOVUPS Y12, 256(DI)
	VMOVUPS Y13, 320(DI)
	VMOVUPS Y14, 384(DI)
	VMOVUPS Y15, 448(DI)
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $512, DI
	SUBQ $8, CX
	JMP  tloop

tdone:
	VZEROUPPER
	RET

// func Copy16(dst, src *float32, ld, n int)
//
// For p in [0, n) and j in [0, 16): dst[p*16+j] = src[p*ld+j], prefetching
// the row eight ahead (the rows of B may be a page or more apart, where the
// hardware prefetchers do not follow).
TEXT ·Copy16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JZ    cdone

cloop:
	PREFETCHT0 (SI)(R8*8)
	PREFETCHT0 63(SI)(R8*8)
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ R8, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  cloop

cdone:
	VZEROUPPER
	RET

// STEP4 is STEPP for the first four rows of a packed A panel.
#define STEP4(a0, a1, a2, a3) \
	LOADB                       \
	VBROADCASTSS a0(AX), Y14    \
	FMAROW(Y14, Y0, Y1)         \
	VBROADCASTSS a1(AX), Y15    \
	FMAROW(Y15, Y2, Y3)         \
	VBROADCASTSS a2(AX), Y14    \
	FMAROW(Y14, Y4, Y5)         \
	VBROADCASTSS a3(AX), Y15    \
	FMAROW(Y15, Y6, Y7)

// func Kernel4x16(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
TEXT ·Kernel4x16(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ ldb+24(FP), R11
	SHLQ $2, R11
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

floop4:
	CMPQ CX, $4
	JLT  ftail
	STEP4(0, 4, 8, 12)
	STEP4(24, 28, 32, 36)
	STEP4(48, 52, 56, 60)
	STEP4(72, 76, 80, 84)
	ADDQ $96, AX
	SUBQ $4, CX
	JMP  floop4

ftail:
	TESTQ CX, CX
	JZ    fepilogue
	STEP4(0, 4, 8, 12)
	ADDQ $24, AX
	DECQ CX
	JMP  ftail

fepilogue:
	VBROADCASTSS alpha+48(FP), Y14
	VMULPS Y14, Y0, Y0
	VMULPS Y14, Y1, Y1
	VMULPS Y14, Y2, Y2
	VMULPS Y14, Y3, Y3
	VMULPS Y14, Y4, Y4
	VMULPS Y14, Y5, Y5
	VMULPS Y14, Y6, Y6
	VMULPS Y14, Y7, Y7
	MOVL  beta+52(FP), R9
	TESTL $0x7fffffff, R9 // beta == ±0: C is not read
	JZ    fstore0
	VBROADCASTSS beta+52(FP), Y15
	ROWB(Y0, Y1)
	ROWB(Y2, Y3)
	ROWB(Y4, Y5)
	ROWB(Y6, Y7)
	VZEROUPPER
	RET

fstore0:
	ROW0(Y0, Y1)
	ROW0(Y2, Y3)
	ROW0(Y4, Y5)
	ROW0(Y6, Y7)
	VZEROUPPER
	RET

// func CopyPanels(dst, src *float32, ld, n, panels int)
TEXT ·CopyPanels(SB), NOSPLIT, $0-40
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  ld+16(FP), R8
	SHLQ  $2, R8
	MOVQ  n+24(FP), CX
	MOVQ  panels+32(FP), R10
	MOVQ  CX, R9
	SHLQ  $6, R9
	MOVQ  R8, R12
	SHLQ  $3, R12
	TESTQ CX, CX
	JZ    cpdone
	TESTQ R10, R10
	JZ    cpdone

cprow:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R10, DX

cpchunk:
	PREFETCHT0 (AX)(R12*1)
	VMOVUPS    (AX), Y0
	VMOVUPS    32(AX), Y1
	VMOVUPS    Y0, (BX)
	VMOVUPS    Y1, 32(BX)
	ADDQ       $64, AX
	ADDQ       R9, BX
	DECQ       DX
	JNZ        cpchunk
	ADDQ       R8, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        cprow

cpdone:
	VZEROUPPER
	RET

// RELU2 sets Y0, Y1 to max(0, ·) bit-exactly as Go's branch-free ReLU: the
// sign bit, spread over each word, clears every bit of a negative value.
#define RELU2 \
	VPSRAD $31, Y0, Y4 \
	VPSRAD $31, Y1, Y5 \
	VPANDN Y0, Y4, Y0  \
	VPANDN Y1, Y5, Y1

// func Epilogue16(c *float32, ldc, rows int, bias *float32, relu bool)
TEXT ·Epilogue16(SB), NOSPLIT, $0-33
	MOVQ    c+0(FP), DI
	MOVQ    ldc+8(FP), R8
	SHLQ    $2, R8
	MOVQ    rows+16(FP), CX
	MOVQ    bias+24(FP), SI
	MOVBLZX relu+32(FP), DX
	TESTQ   CX, CX
	JZ      edone
	TESTQ   SI, SI
	JZ      erelu
	VMOVUPS (SI), Y2
	VMOVUPS 32(SI), Y3
	TESTQ   DX, DX
	JZ      ebias

eboth:
	VADDPS  (DI), Y2, Y0
	VADDPS  32(DI), Y3, Y1
	RELU2
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R8, DI
	DECQ    CX
	JNZ     eboth
	JMP     edone

ebias:
	VADDPS  (DI), Y2, Y0
	VADDPS  32(DI), Y3, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R8, DI
	DECQ    CX
	JNZ     ebias
	JMP     edone

erelu:
	TESTQ DX, DX
	JZ    edone

ereluloop:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	RELU2
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R8, DI
	DECQ    CX
	JNZ     ereluloop

edone:
	VZEROUPPER
	RET
