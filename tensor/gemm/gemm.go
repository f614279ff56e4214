// Package gemm is the one seam through which graft multiplies float32 matrices.
//
// Every matrix product in graft's tensor engine goes through Sgemm, which calls
// the current Backend. The default build uses a pure-Go backend (gonum); the
// build tag "openblas" adds a cgo backend over OpenBLAS and makes it the default.
// A backend can be chosen at run time with Set, or with the environment variable
// GRAFT_GEMM naming one of Available().
package gemm

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

// Backend computes C = alpha·op(A)·op(B) + beta·C on row-major float32 matrices,
// where op(X) is X or its transpose. op(A) is m×k, op(B) is k×n, C is m×n; lda,
// ldb and ldc are the row strides of A, B and C as stored.
type Backend interface {
	// Name identifies the backend, e.g. "gonum" or "openblas".
	Name() string
	// Sgemm performs the product; see Backend.
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
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
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		checkMatrix("C", c, m, n, ldc)
		scaleC(m, n, beta, c, ldc)
		return
	}
	check(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	Current().Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
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
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("A", a, ar, ac, lda)
	checkMatrix("B", b, br, bc, ldb)
	checkMatrix("C", c, m, n, ldc)
}

func checkMatrix(name string, s []float32, rows, cols, ld int) {
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("gemm: %s is %d×%d but its row stride is %d", name, rows, cols, ld))
	}
	if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("gemm: %s is %d×%d with row stride %d but has only %d elements", name, rows, cols, ld, len(s)))
	}
}
