package gemm

import "sync"

// Native is graft's own float32 GEMM, written in Go with an AVX2+FMA
// micro-kernel in assembly on amd64 (chosen at run time by CPUID; the build
// tag "purego" and other architectures use a portable Go micro-kernel).
//
// It follows the BLIS/GotoBLAS structure: op(B) is packed into kc×16 panels
// and op(A) into 6×kc panels (the packing absorbs transposes and strides, so
// the micro-kernel sees one layout), with cache blocking of nativeKC,
// nativeMC and nativeNC, and a 6×16 micro-tile (a 4×16 one for C's last
// rows). Where packing would cost more than it saves — A untransposed with
// few columns of C, B untransposed with few rows of C — the kernel reads
// that operand in place. alpha and beta are applied as C is written; with
// beta = 0, C is never read. Each call runs on the calling goroutine, with
// its packing buffers from a pool (no allocation in steady state); this
// package splits large products across GOMAXPROCS goroutines (see Serial).
type Native struct{}

// Name returns "native".
func (Native) Name() string { return "native" }

// Serial reports that Sgemm runs on the calling thread only.
func (Native) Serial() bool { return true }

// Sgemm performs the product with the fastest micro-kernel this CPU runs.
func (Native) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nativeSgemm(bestKernel(), bestKernel4(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Epilogue{})
}

// sgemmEpilogue is Sgemm with the epilogue applied to each micro-tile of C
// right after its last block of k.
func (Native) sgemmEpilogue(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep Epilogue) {
	nativeSgemm(bestKernel(), bestKernel4(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
}

// init makes Native the default where its AVX2+FMA kernel runs (gonum's
// GEMM is faster than the portable micro-kernel). openblas.go, initialised
// after this file, takes the default back under the "openblas" tag.
func init() {
	register(Native{}, nativeAVX2)
}

// Blocking parameters: the micro-tile is nativeMR×nativeNR; a packed B
// panel (kc×16 floats, 16 KiB) stays in L1, a packed A block (mc×kc) in L2,
// a packed B block (kc×nc) in L3.
const (
	nativeMR = 6
	nativeNR = 16
	nativeKC = 256
	nativeMC = 120  // multiple of nativeMR
	nativeNC = 3072 // multiple of nativeNR

	// A is read in place (not packed) when it is not transposed and n is
	// at most nativeDirectAN: packing would cost as much as it saves.
	nativeDirectAN = 32 * nativeNR
	// B is read in place when it is not transposed and m is at most
	// nativeDirectBM.
	nativeDirectBM = 24 * nativeMR
)

// nativeBlocking holds the cache-block sizes (variables so that the tuning
// benchmark can try others).
type nativeBlocking struct{ kc, mc, nc int }

var nativeBlock = nativeBlocking{nativeKC, nativeMC, nativeNC}

// nativeDirectA is nativeDirectAN, variable for the tuning benchmark.
var nativeDirectA = nativeDirectAN

// nativeDirectB is nativeDirectBM, variable for the tuning benchmark.
var nativeDirectB = nativeDirectBM

// nativeGroupB is the width of the group of B panels packed together when
// B's row stride is a multiple of 2 KiB (a multiple of nativeNR; see
// nativeSgemm). Four panels measured best for the CNN's 16×150·150×4096.
const nativeGroupB = 4 * nativeNR

// nativeGroup enables packing B panels in groups (variable for the tuning
// benchmark).
var nativeGroup = true

// nativePanelB enables packing B a panel at a time for short products
// (variable for the tuning benchmark).
var nativePanelB = true

// microKernel computes the 6×16 tile C = alpha·A·B + beta·C over k steps; C
// has row stride ldc. A is a packed panel (6 floats per step) when lda is 0,
// else six rows of k floats lda apart; B is k rows of 16 floats ldb apart
// (ldb = 16: a packed panel). With beta == 0 it never reads C.
type microKernel func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

// nativeBufs are one call's packing buffers, pooled between calls.
type nativeBufs struct {
	a, b []float32
	tile [nativeMR * nativeNR]float32
	// strip holds the rows of a narrow last panel while packA or packB
	// transposes them.
	strip [nativeNR * nativeKC]float32
}

var nativePool = sync.Pool{New: func() any { return new(nativeBufs) }}

// grow returns s with length n, reusing its storage when large enough.
func grow(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// nativeSgemm is Native.Sgemm with the micro-kernels given, so that tests
// can run the portable one on any machine. kern4, when not nil, computes the
// first four rows of a tile from a packed A panel, for the last rows of C.
// The epilogue ep is applied to each tile of C after its last block of k,
// while the tile is in cache.
func nativeSgemm(kern, kern4 microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep Epilogue) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 || alpha == 0 {
		checkMatrix("C", c, m, n, ldc)
		scaleC(m, n, beta, c, ldc)
		ep.apply(c, ldc, m, n, 0)
		return
	}
	if ep.Bias != nil {
		_ = ep.Bias[n-1]
	}
	// The assembly kernel writes through raw pointers: the shapes must fit.
	check(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)

	bufs := nativePool.Get().(*nativeBufs)
	defer nativePool.Put(bufs)
	// Blocks of equal size (rounded to whole micro-tiles), so that no
	// thin last block runs at a fraction of the speed.
	ncMax := balance(n, nativeBlock.nc, nativeNR)
	kcMax := balance(k, nativeBlock.kc, 1)
	mcMax := balance(m, nativeBlock.mc, nativeMR)
	bufs.b = grow(bufs.b, kcMax*roundUp(ncMax, nativeNR))
	bufs.a = grow(bufs.a, kcMax*roundUp(mcMax, nativeMR))
	tile := bufs.tile[:]

	directA := !transA && n <= nativeDirectA
	// B rows a multiple of 2 KiB apart fall into a few cache sets and do
	// not stay in L1 between row tiles: pack those unless there is only one
	// row tile.
	directB := !transB && m <= nativeDirectB && (m <= nativeMR || ldb%512 != 0)
	// With a single block of rows each B panel is used by one sweep of
	// row tiles only: pack it just before that sweep, so that it is still
	// in L1, instead of packing the whole kc×nc block ahead (which may
	// not fit in L2).
	panelB := m <= mcMax && nativePanelB
	// Rows of B a multiple of 2 KiB apart also make packing one panel at
	// a time slow: its kc rows fall into a few sets of L1 and L2, and each
	// comes from L3 on its own. Then pack nativeGroupB panels together,
	// reading B row by row.
	groupB := panelB && !transB && !directB && nativeGroup
	for jc := 0; jc < n; jc += ncMax {
		nc := min(ncMax, n-jc)
		ncDirect := 0 // columns of B read in place
		if directB {
			ncDirect = nc / nativeNR * nativeNR
		}
		for pc := 0; pc < k; pc += kcMax {
			kc := min(kcMax, k-pc)
			betaEff := beta
			if pc > 0 {
				betaEff = 1
			}
			epi := ep.active() && pc+kc == k // the last block of k
			if !panelB {
				packB(bufs.b[ncDirect*kc:], b, ldb, transB, pc, kc, jc+ncDirect, nc-ncDirect, bufs.strip[:])
			}
			for ic := 0; ic < m; ic += mcMax {
				mc := min(mcMax, m-ic)
				mcDirect := 0 // rows of A read in place
				if directA {
					mcDirect = mc / nativeMR * nativeMR
				}
				packA(bufs.a[mcDirect*kc:], a, lda, transA, ic+mcDirect, mc-mcDirect, pc, kc, bufs.strip[:])
				for jr := 0; jr < nc; jr += nativeNR {
					nr := min(nativeNR, nc-jr)
					bp, bld := bufs.b[jr*kc:(jr+nativeNR)*kc], nativeNR
					switch {
					case jr < ncDirect:
						bp, bld = b[pc*ldb+jc+jr:], ldb
					case groupB:
						g := jr % nativeGroupB
						if g == 0 {
							packBRows(bufs.b, b, ldb, pc, kc, jc+jr, min(nativeGroupB, nc-jr))
						}
						bp = bufs.b[g*kc : (g+nativeNR)*kc]
					case panelB:
						bp = bufs.b[:kc*nativeNR]
						packB(bp, b, ldb, transB, pc, kc, jc+jr, nr, bufs.strip[:])
					}
					for ir := 0; ir < mc; ir += nativeMR {
						mr := min(nativeMR, mc-ir)
						ap, ald := bufs.a[ir*kc:(ir+nativeMR)*kc], 0
						if ir < mcDirect {
							ap, ald = a[(ic+ir)*lda+pc:], lda
						}
						off := (ic+ir)*ldc + jc + jr
						if mr == nativeMR && nr == nativeNR {
							kern(kc, ap, ald, bp, bld, c[off:], ldc, alpha, betaEff)
							if epi {
								ep.applyTile(c[off:], ldc, nativeMR, jc+jr)
							}
							continue
						}
						edge := kern
						if kern4 != nil && mr <= 4 && ald == 0 {
							if mr == 4 && nr == nativeNR {
								kern4(kc, ap, 0, bp, bld, c[off:], ldc, alpha, betaEff)
								if epi {
									ep.applyTile(c[off:], ldc, 4, jc+jr)
								}
								continue
							}
							edge = kern4
						}
						// Edge tile: compute the tile into a buffer, then
						// write the part inside C.
						edge(kc, ap, ald, bp, bld, tile, nativeNR, alpha, 0)
						for r := 0; r < mr; r++ {
							row := c[off+r*ldc : off+r*ldc+nr]
							t := tile[r*nativeNR : r*nativeNR+nr]
							if betaEff == 0 {
								copy(row, t)
								continue
							}
							for j, v := range t {
								row[j] = v + betaEff*row[j]
							}
						}
						if epi {
							ep.apply(c[off:], ldc, mr, nr, jc+jr)
						}
					}
				}
			}
		}
	}
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// nativeTileUse is the fraction of its micro-tiles' work that a product
// whose C has m rows and n columns uses (the rest pads edge tiles).
func nativeTileUse(m, n int) float64 {
	return float64(m*n) / float64(roundUp(m, nativeMR)*roundUp(n, nativeNR))
}

// nativeSwaps reports whether a product is faster computed as Cᵀ =
// op(B)ᵀ·op(A)ᵀ and transposed into C: when that fills the 6×16 tiles
// markedly better and C is small next to the work, as in a convolution's
// weight gradient (16×4096·4096×150: Cᵀ is 150×16, 25 whole tiles, against
// 3×10 tiles a sixth empty; 1.4× faster here). The transpose costs about
// one GEMM step per element of C, so k must be long.
func nativeSwaps(m, n, k int) bool {
	return k >= 512 && m*n <= 1<<16 && nativeTileUse(n, m) >= 1.1*nativeTileUse(m, n)
}

// balance returns the block size for splitting size into the fewest blocks
// of at most limit, as equal as possible, rounded up to a multiple of unit
// (limit is a multiple of unit).
func balance(size, limit, unit int) int {
	blocks := (size + limit - 1) / limit
	return min(roundUp((size+blocks-1)/blocks, unit), limit)
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as consecutive kc×16
// panels (row p of a panel holds 16 columns), padding the last panel's
// missing columns with zeros. strip is scratch for a narrow transposed
// panel (nil: none).
func packB(dst, b []float32, ldb int, transB bool, pc, kc, jc, nc int, strip []float32) {
	for jp := 0; jp < nc; jp += nativeNR {
		w := min(nativeNR, nc-jp)
		d := dst[jp*kc : (jp+nativeNR)*kc]
		if !transB && w == nativeNR {
			// Whole 16-float rows: array copies compile to inline moves,
			// where copy would call memmove for every row.
			src := b[pc*ldb+jc+jp:]
			if nativeAVX2 {
				_ = d[kc*nativeNR-1]
				_ = src[(kc-1)*ldb+nativeNR-1]
				copy16(d, src, ldb, kc)
				continue
			}
			for p := 0; p < kc; p++ {
				*(*[nativeNR]float32)(d[p*nativeNR:]) = *(*[nativeNR]float32)(src[p*ldb:])
			}
			continue
		}
		if !transB {
			packStrip(d, nativeNR, b[pc*ldb+jc+jp:], ldb, kc, w)
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]
		if w == nativeNR {
			packB16T(d[:kc*nativeNR], b[(jc+jp)*ldb+pc:], ldb, kc)
			continue
		}
		if nativeAVX2 && nativeNR*kc <= len(strip) {
			// The last, narrow panel: copy its w rows whole (at streaming
			// speed) into a block padded with zero rows, and transpose
			// that as a full panel. Gathering the values one by one from
			// rows far apart cost several times more per value.
			sc := strip[:nativeNR*kc]
			for j := range w {
				copy(sc[j*kc:(j+1)*kc], b[(jc+jp+j)*ldb+pc:])
			}
			clear(sc[w*kc:])
			packB16T(d[:kc*nativeNR], sc, kc, kc)
			continue
		}
		packStripT(d, nativeNR, b[(jc+jp)*ldb+pc:], ldb, kc, w)
	}
}

// packBRows is packB for B not transposed, reading B row by row across the
// whole panels (for row strides that make a panel's rows share cache sets).
func packBRows(dst, b []float32, ldb, pc, kc, jc, nc int) {
	full := nc / nativeNR * nativeNR
	if nativeAVX2 && full > 0 {
		src := b[pc*ldb+jc:]
		_ = dst[full*kc-1]
		_ = src[(kc-1)*ldb+full-1]
		copyPanels(dst, src, ldb, kc, full/nativeNR)
	} else {
		for p := 0; p < kc; p++ {
			src := b[(pc+p)*ldb+jc : (pc+p)*ldb+jc+full]
			for jp := 0; jp < full; jp += nativeNR {
				*(*[nativeNR]float32)(dst[jp*kc+p*nativeNR:]) = *(*[nativeNR]float32)(src[jp:])
			}
		}
	}
	if full < nc {
		packB(dst[full*kc:], b, ldb, false, pc, kc, jc+full, nc-full, nil)
	}
}

// packB16T packs a kc×16 panel from 16 rows of B stored transposed (row j
// of the panel's columns at b[j*ldb:], kc floats each), reading the 16 rows
// side by side so that every store is contiguous.
func packB16T(d, b []float32, ldb, kc int) {
	if n8 := kc &^ 7; nativeAVX2 && n8 > 0 {
		_ = d[(n8-1)*nativeNR+nativeNR-1]
		_ = b[(nativeNR-1)*ldb+n8-1]
		transpose8(d, b, ldb, n8)
		transpose8(d[8:], b[8*ldb:], ldb, n8)
		if n8 == kc {
			return
		}
		d, b, kc = d[n8*nativeNR:], b[n8:], kc-n8
	}
	var rows [nativeNR][]float32
	for j := range rows {
		rows[j] = b[j*ldb : j*ldb+kc]
	}
	r0, r1, r2, r3, r4, r5, r6, r7 := rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6], rows[7]
	r8, r9, r10, r11, r12, r13, r14, r15 := rows[8], rows[9], rows[10], rows[11], rows[12], rows[13], rows[14], rows[15]
	for p := 0; p < kc; p++ {
		q := (*[nativeNR]float32)(d[p*nativeNR:])
		q[0], q[1], q[2], q[3] = r0[p], r1[p], r2[p], r3[p]
		q[4], q[5], q[6], q[7] = r4[p], r5[p], r6[p], r7[p]
		q[8], q[9], q[10], q[11] = r8[p], r9[p], r10[p], r11[p]
		q[12], q[13], q[14], q[15] = r12[p], r13[p], r14[p], r15[p]
	}
}

// packStrip copies the first w values of kc rows of src (row stride ld)
// into kc consecutive panel rows of the given width in dst, zero-padding
// each to the full width: the last, narrow panel of a packed operand.
func packStrip(dst []float32, width int, src []float32, ld, kc, w int) {
	for p := 0; p < kc; p++ {
		row := dst[p*width : (p+1)*width]
		copy(row, src[p*ld:p*ld+w])
		clear(row[w:])
	}
}

// packStripT is packStrip for a transposed source: row j of src (stride ld)
// becomes column j of the kc panel rows, for j < w (w < width ≤ nativeNR);
// the other columns are zeroed. It writes the panel row by row, reading the
// w rows side by side: writing a column at a time touched a cache line per
// value, w times over.
func packStripT(dst []float32, width int, src []float32, ld, kc, w int) {
	var rows [nativeNR][]float32
	for j := range w {
		rows[j] = src[j*ld : j*ld+kc]
	}
	for p := 0; p < kc; p++ {
		row := dst[p*width : (p+1)*width]
		for j, r := range rows[:w] {
			row[j] = r[p]
		}
		for j := w; j < width; j++ {
			row[j] = 0
		}
	}
}

// packA copies op(A)[ic:ic+mc, pc:pc+kc] into dst as consecutive 6×kc
// panels (step p of a panel holds 6 rows), padding the last panel's missing
// rows with zeros. strip is scratch for a last panel of fewer than 6 rows.
func packA(dst, a []float32, lda int, transA bool, ic, mc, pc, kc int, strip []float32) {
	for ip := 0; ip < mc; ip += nativeMR {
		h := min(nativeMR, mc-ip)
		d := dst[ip*kc : (ip+nativeMR)*kc]
		if transA {
			// op(A)[i][p] = a[p*lda+i]: six consecutive floats per step.
			if h == nativeMR {
				// Element by element: a [6]float32 array copy compiles to
				// a call of memmove, which costs more than the copy.
				for p := 0; p < kc; p++ {
					q := d[p*nativeMR : p*nativeMR+nativeMR : p*nativeMR+nativeMR]
					src := a[(pc+p)*lda+ic+ip:]
					src = src[:nativeMR:nativeMR]
					q[0], q[1], q[2], q[3], q[4], q[5] = src[0], src[1], src[2], src[3], src[4], src[5]
				}
				continue
			}
			packStrip(d, nativeMR, a[pc*lda+ic+ip:], lda, kc, h)
			continue
		}
		if h == nativeMR {
			packRows6(d, a[(ic+ip)*lda+pc:], lda, kc)
			continue
		}
		if nativeMR*kc <= len(strip) {
			// As for B's narrow panel: copy the rows whole into a block
			// padded with zero rows and pack that as a full panel.
			sc := strip[:nativeMR*kc]
			for r := range h {
				copy(sc[r*kc:(r+1)*kc], a[(ic+ip+r)*lda+pc:])
			}
			clear(sc[h*kc:])
			packRows6(d, sc, kc, kc)
			continue
		}
		packStripT(d, nativeMR, a[(ic+ip)*lda+pc:], lda, kc, h)
	}
}

// packRows6 packs six rows of kc floats, ld apart in src, into the panel d
// (six floats per step).
func packRows6(d, src []float32, ld, kc int) {
	r0 := src[:kc]
	r1 := src[ld : ld+kc]
	r2 := src[2*ld : 2*ld+kc]
	r3 := src[3*ld : 3*ld+kc]
	r4 := src[4*ld : 4*ld+kc]
	r5 := src[5*ld : 5*ld+kc]
	d = d[:kc*nativeMR]
	for p := range r0 {
		q := d[p*nativeMR : p*nativeMR+nativeMR : p*nativeMR+nativeMR]
		q[0], q[1], q[2], q[3], q[4], q[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// kernelGo is the portable micro-kernel. It walks the 6×16 tile in 2×4
// blocks whose eight sums stay in registers (acc in memory would make every
// multiply-add a load and a store).
func kernelGo(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	as, ap := 1, nativeMR // A[r][p] = a[r*as+p*ap]
	if lda != 0 {
		as, ap = lda, 1
	}
	_ = a[(nativeMR-1)*as+(k-1)*ap]
	_ = b[(k-1)*ldb+nativeNR-1]
	var acc [nativeMR][nativeNR]float32
	for r := 0; r < nativeMR; r += 2 {
		for j := 0; j < nativeNR; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			ia, ib := r*as, j
			for p := 0; p < k; p++ {
				a0, a1 := a[ia], a[ia+as]
				bq := (*[4]float32)(b[ib : ib+4])
				b0, b1, b2, b3 := bq[0], bq[1], bq[2], bq[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
				ia += ap
				ib += ldb
			}
			acc[r][j], acc[r][j+1], acc[r][j+2], acc[r][j+3] = c00, c01, c02, c03
			acc[r+1][j], acc[r+1][j+1], acc[r+1][j+2], acc[r+1][j+3] = c10, c11, c12, c13
		}
	}
	for r := 0; r < nativeMR; r++ {
		row := c[r*ldc : r*ldc+nativeNR]
		if beta == 0 {
			for j := range row {
				row[j] = alpha * acc[r][j]
			}
			continue
		}
		for j := range row {
			row[j] = alpha*acc[r][j] + beta*row[j]
		}
	}
}
