// Package gemm is the one seam through which graft multiplies float32 matrices.
//
// Every matrix product in graft's tensor engine goes through Sgemm, which calls
// the current Backend. The default build uses graft's own GEMM, "native", in Go
// with an AVX2+FMA assembly micro-kernel, on CPUs that have AVX2 and FMA (see
// Native), and gonum's pure-Go GEMM elsewhere and under the build tag "purego";
// the build tag "openblas" adds a cgo backend over OpenBLAS and makes it the
// default.
// A backend can be chosen at run time with Set, or with the environment variable
// GRAFT_GEMM naming one of Available().
package gemm

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Backend computes C = alpha·op(A)·op(B) + beta·C on row-major float32 matrices,
// where op(X) is X or its transpose. op(A) is m×k, op(B) is k×n, C is m×n; lda,
// ldb and ldc are the row strides of A, B and C as stored. Sgemm must be safe
// to call from several goroutines at once.
type Backend interface {
	// Name identifies the backend, e.g. "gonum" or "openblas".
	Name() string
	// Sgemm performs the product; see Backend.
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// Serial is implemented by backends whose Sgemm runs only on the calling
// thread; for them this package splits large products and batches across
// GOMAXPROCS goroutines itself (one thread pool for everything, instead of a
// library's spinning threads competing with Go's for the same cores).
type Serial interface {
	Serial() bool
}

func isSerial(b Backend) bool {
	s, ok := b.(Serial)
	return ok && s.Serial()
}

var (
	mu       sync.RWMutex
	current  Backend
	registry = map[string]Backend{}
	order    []string
)

// register adds a backend; the last one registered with preferred=true becomes
// the default unless GRAFT_GEMM names another.
func register(b Backend, preferred bool) {
	mu.Lock()
	defer mu.Unlock()
	registry[b.Name()] = b
	order = append(order, b.Name())
	if preferred || current == nil {
		current = b
	}
}

func init() {
	register(Gonum{}, false)
}

// chooseFromEnv applies GRAFT_GEMM once all backends have registered.
var envOnce sync.Once

func applyEnv() {
	envOnce.Do(func() {
		name := strings.TrimSpace(os.Getenv("GRAFT_GEMM"))
		if name == "" {
			return
		}
		b, err := ByName(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "graft: GRAFT_GEMM=%q: %v; using %s\n", name, err, current.Name())
			return
		}
		mu.Lock()
		current = b
		mu.Unlock()
	})
}

// Current returns the backend Sgemm uses now.
func Current() Backend {
	applyEnv()
	mu.RLock()
	defer mu.RUnlock()
	return current
}

// Set makes b the backend Sgemm uses and returns the previous one.
func Set(b Backend) Backend {
	applyEnv()
	mu.Lock()
	defer mu.Unlock()
	prev := current
	current = b
	return prev
}

// Available lists the names of the backends compiled into this binary.
func Available() []string {
	mu.RLock()
	defer mu.RUnlock()
	return append([]string(nil), order...)
}

// ByName returns the compiled-in backend with the given name.
func ByName(name string) (Backend, error) {
	mu.RLock()
	defer mu.RUnlock()
	if b, ok := registry[name]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("gemm: no backend %q in this build (available: %s)", name, strings.Join(order, ", "))
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C with the current backend after
// checking that the slices are large enough for the given shapes and strides.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Epilogue{})
}

// sgemm is Sgemm followed by the epilogue ep.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep Epilogue) {
	if m == 0 || n == 0 {
		return
	}
	workers := runtime.GOMAXPROCS(0)
	if k == 0 {
		checkMatrix("C", c, m, n, ldc)
		scaleC(m, n, beta, c, ldc)
		ep.applyParallel(c, ldc, m, n, workers)
		return
	}
	check(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	be := Current()
	if _, native := be.(Native); native && nativeSwaps(m, n, k) {
		sgemmTransposed(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		ep.applyParallel(c, ldc, m, n, workers)
		return
	}
	if !isSerial(be) || workers < 2 || 2*m*n*k < splitFlops {
		runBackend(be, workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
		return
	}
	splitSgemm(be, workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
}

// transposedC pools the buffers of sgemmTransposed.
var transposedC = sync.Pool{New: func() any { return new([]float32) }}

// sgemmTransposed computes C = alpha·op(A)·op(B) + beta·C as the transpose
// of Cᵀ = op(B)ᵀ·op(A)ᵀ, computed into a pooled buffer (see nativeSwaps).
func sgemmTransposed(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	buf := transposedC.Get().(*[]float32)
	t := grow(*buf, m*n)
	sgemm(!transB, !transA, n, m, k, alpha, b, ldb, a, lda, 0, t, m, Epilogue{})
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 { // C is not read: NaNs in it do not carry over
			for j := range row {
				row[j] = t[j*m+i]
			}
			continue
		}
		for j, v := range row {
			row[j] = t[j*m+i] + beta*v
		}
	}
	*buf = t
	transposedC.Put(buf)
}

// splitFlops is the size below which splitting a product across goroutines
// costs more than it saves.
const splitFlops = 1 << 21

// How splitSgemm divides a product.
const (
	splitRows  = iota // blocks of rows of C
	splitCols         // blocks of columns of C
	splitK            // blocks of the inner dimension, summed afterwards
	splitBatch        // blocks of the items of a batch (SgemmBatch)
)

// splitJob is one product that splitSgemm runs in blocks on several
// goroutines. Jobs are pooled, with the k split's partial products, so that
// a split product allocates nothing in steady state.
type splitJob struct {
	be             Backend
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	ep             Epilogue
	by             int // splitRows, splitCols, splitK or splitBatch
	chunk          int // block size along the split dimension
	// partial[i] receives block i's product in a k split (i > 0; block 0
	// accumulates into C).
	partial [][]float32
	// aOffs, bOffs and cOffs are where a batch's items start in a, b and c.
	aOffs, bOffs, cOffs []int
	wg                  sync.WaitGroup
}

var splitJobs = sync.Pool{New: func() any { return new(splitJob) }}

// splitSgemm computes the product on several goroutines: in row or column
// blocks of C (multiples of 16) when C is large enough, otherwise — a small C
// from a long inner dimension, such as a convolution's weight gradient — in
// blocks of k whose partial products are summed.
func splitSgemm(be Backend, workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep Epilogue) {
	var by, size, align int
	switch {
	case k >= 8*max(m, n) && k >= 64*workers:
		// A long inner dimension: blocks of rows or columns would each
		// pack the whole of the other operand.
		by, size, align = splitK, k, 1
	case m >= n && m >= 16*workers:
		by, size, align = splitRows, m, 16
	case n >= 16*workers:
		by, size, align = splitCols, n, 16
	case k >= 64*workers:
		by, size, align = splitK, k, 1
	default:
		runBackend(be, workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
		return
	}
	j := splitJobs.Get().(*splitJob)
	*j = splitJob{be: be, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, ep: ep, by: by, partial: j.partial[:0]}
	j.chunk = roundUp((size+workers-1)/workers, align)
	if by == splitK {
		// The first block accumulates into C with beta; the others into
		// private buffers that are added afterwards.
		nb := (k + j.chunk - 1) / j.chunk
		if cap(j.partial) < nb {
			j.partial = append(j.partial[:cap(j.partial)], make([][]float32, nb-cap(j.partial))...)
		}
		j.partial = j.partial[:nb]
		for i := 1; i < nb; i++ {
			j.partial[i] = grow(j.partial[i], m*n)
		}
	}
	j.runChunks(size)
	if by == splitK {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for _, p := range j.partial[1:] {
				for jj, v := range p[i*n : (i+1)*n] {
					row[jj] += v
				}
			}
		}
		ep.applyParallel(c, ldc, m, n, 1)
	}
	partial := j.partial
	*j = splitJob{partial: partial} // drop the references to the caller's matrices
	splitJobs.Put(j)
}

// run computes the block [lo, hi) of the job's split dimension.
func (j *splitJob) run(lo, hi int) {
	switch j.by {
	case splitRows:
		aOff := lo * j.lda
		if j.transA {
			aOff = lo
		}
		runBackend(j.be, 1, j.transA, j.transB, hi-lo, j.n, j.k, j.alpha, j.a[aOff:], j.lda, j.b, j.ldb, j.beta, j.c[lo*j.ldc:], j.ldc, j.ep)
	case splitCols:
		bOff := lo
		if j.transB {
			bOff = lo * j.ldb
		}
		ep := j.ep
		if ep.Bias != nil {
			ep.Bias = ep.Bias[lo:hi]
		}
		runBackend(j.be, 1, j.transA, j.transB, j.m, hi-lo, j.k, j.alpha, j.a, j.lda, j.b[bOff:], j.ldb, j.beta, j.c[lo:], j.ldc, ep)
	case splitK:
		aOff, bOff := lo, lo*j.ldb
		if j.transA {
			aOff = lo * j.lda
		}
		if j.transB {
			bOff = lo
		}
		if lo == 0 {
			j.be.Sgemm(j.transA, j.transB, j.m, j.n, hi-lo, j.alpha, j.a[aOff:], j.lda, j.b[bOff:], j.ldb, j.beta, j.c, j.ldc)
			return
		}
		j.be.Sgemm(j.transA, j.transB, j.m, j.n, hi-lo, j.alpha, j.a[aOff:], j.lda, j.b[bOff:], j.ldb, 0, j.partial[lo/j.chunk], j.n)
	case splitBatch:
		for i := lo; i < hi; i++ {
			j.be.Sgemm(j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a[j.aOffs[i]:], j.lda, j.b[j.bOffs[i]:], j.ldb, j.beta, j.c[j.cOffs[i]:], j.ldc)
		}
	}
}

// splitTask is one block of a splitJob for a worker goroutine.
type splitTask struct {
	job    *splitJob
	lo, hi int
}

// splitTasks feeds the worker goroutines, which live on between products
// (starting a goroutine per block would allocate its closure every time).
var splitTasks = make(chan splitTask)

func splitWorker() {
	for t := range splitTasks {
		t.job.run(t.lo, t.hi)
		t.job.wg.Done()
	}
}

// runChunks runs the job over [0, size) in blocks of j.chunk, the last block
// on the calling goroutine and the others on workers (a new one when none is
// idle), and waits for them.
func (j *splitJob) runChunks(size int) {
	for lo := 0; lo < size; lo += j.chunk {
		hi := min(lo+j.chunk, size)
		if hi == size {
			j.run(lo, hi)
			break
		}
		j.wg.Add(1)
		t := splitTask{j, lo, hi}
		select {
		case splitTasks <- t:
		default:
			go splitWorker()
			splitTasks <- t
		}
	}
	j.wg.Wait()
}

// parallelChunks runs f over [0, size) in `workers` contiguous chunks rounded
// up to a multiple of align, the last chunk on the calling goroutine.
func parallelChunks(size, workers, align int, f func(lo, hi int)) {
	chunk := (size + workers - 1) / workers
	chunk = (chunk + align - 1) / align * align
	var wg sync.WaitGroup
	for lo := 0; lo < size; lo += chunk {
		hi := min(lo+chunk, size)
		if hi == size {
			f(lo, hi)
			break
		}
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, hi)
	}
	wg.Wait()
}

// distinct reports whether no offset repeats (without allocating for the
// batch sizes attention uses).
func distinct(offs []int) bool {
	if len(offs) > 512 {
		seen := make(map[int]bool, len(offs))
		for _, o := range offs {
			if seen[o] {
				return false
			}
			seen[o] = true
		}
		return true
	}
	for i, o := range offs {
		if slices.Contains(offs[:i], o) {
			return false
		}
	}
	return true
}

// SgemmBatch computes C_i = alpha·op(A_i)·op(B_i) + beta·C_i for a batch of
// equally shaped products whose matrices start at the given offsets, running
// the items in parallel when each is small. Items may share a C matrix (a
// gradient summed over a broadcast batch): then they run one after another.
// In steady state it allocates nothing.
func SgemmBatch(transA, transB bool, m, n, k int, alpha float32, a []float32, aOffs []int, lda int, b []float32, bOffs []int, ldb int, beta float32, c []float32, cOffs []int, ldc int) {
	nb := len(aOffs)
	if len(bOffs) != nb || len(cOffs) != nb {
		panic(fmt.Sprintf("gemm: batch offsets differ in length: %d, %d, %d", nb, len(bOffs), len(cOffs)))
	}
	be := Current()
	workers := min(runtime.GOMAXPROCS(0), nb)
	if !isSerial(be) || workers < 2 || 2*m*n*k >= splitFlops || m == 0 || n == 0 || k == 0 || !distinct(cOffs) {
		for i := 0; i < nb; i++ {
			Sgemm(transA, transB, m, n, k, alpha, a[aOffs[i]:], lda, b[bOffs[i]:], ldb, beta, c[cOffs[i]:], ldc)
		}
		return
	}
	for i := range nb {
		check(transA, transB, m, n, k, a[aOffs[i]:], lda, b[bOffs[i]:], ldb, c[cOffs[i]:], ldc)
	}
	j := splitJobs.Get().(*splitJob)
	*j = splitJob{be: be, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, by: splitBatch, partial: j.partial,
		aOffs: aOffs, bOffs: bOffs, cOffs: cOffs, chunk: (nb + workers - 1) / workers}
	j.runChunks(nb)
	partial := j.partial
	*j = splitJob{partial: partial} // drop the references to the caller's matrices
	splitJobs.Put(j)
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}

func check(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := stored(m, k, transA)
	br, bc := stored(k, n, transB)
	checkMatrix("A", a, ar, ac, lda)
	checkMatrix("B", b, br, bc, ldb)
	checkMatrix("C", c, m, n, ldc)
}

// stored returns the rows and columns in memory of an operand whose shape
// in the product is rows×cols, transposed or not.
func stored(rows, cols int, trans bool) (int, int) {
	if trans {
		return cols, rows
	}
	return rows, cols
}

func checkMatrix(name string, s []float32, rows, cols, ld int) {
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("gemm: %s is %d×%d but its row stride is %d", name, rows, cols, ld))
	}
	if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("gemm: %s is %d×%d with row stride %d but has only %d elements", name, rows, cols, ld, len(s)))
	}
}
