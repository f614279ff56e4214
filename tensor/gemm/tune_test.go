package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"
)

func TestTuneNative(t *testing.T) {
	if os.Getenv("GRAFT_TUNE") == "" {
		t.Skip()
	}
	cfgs := []nativeBlocking{{256, 120, 3072}, {256, 120, 3072}, {256, 120, 3072}}
	direct := []int{512, 512, 512}
	directB := []int{nativeDirectBM, 6, nativeDirectBM}
	panel := []bool{true, true, false}
	for _, sh := range [][5]int{{128, 784, 256, 0, 0}, {128, 784, 256, 0, 1}, {64, 768, 768, 0, 0}, {512, 512, 512, 0, 0}, {2048, 256, 1024, 0, 1}, {64, 768, 384, 0, 0}, {128, 784, 128, 0, 0}, {16, 150, 2048, 0, 0}, {16, 150, 4096, 0, 0}} {
		m, k, n := sh[0], sh[1], sh[2]
		ta, tb := sh[3] == 1, sh[4] == 1
		r := rand.New(rand.NewPCG(1, 2))
		x, y, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		lda, ldb := k, n
		if ta {
			lda = m
		}
		if tb {
			ldb = k
		}
		rates := make([][]float64, len(cfgs))
		prev := Set(Native{})
		for round := 0; round < 7; round++ {
			for i, cfg := range cfgs {
				nativeBlock = cfg
				nativeDirectA = direct[i]
				nativeDirectB = directB[i]
				nativePanelB = panel[i]
				it := max(1, int(3e8/float64(2*m*n*k)))
				t0 := time.Now()
				for range it {
					Sgemm(ta, tb, m, n, k, 1, x, lda, y, ldb, 0, c, n)
				}
				rates[i] = append(rates[i], 2*float64(m*n*k*it)/time.Since(t0).Seconds()/1e9)
			}
		}
		Set(prev)
		line := fmt.Sprintf("%dx%dx%d ta=%v tb=%v:", m, k, n, ta, tb)
		for i, r := range rates {
			slices.Sort(r)
			line += fmt.Sprintf(" %v/%d/%d/%v=%.1f", cfgs[i], direct[i], directB[i], panel[i], r[len(r)/2])
		}
		t.Log(line)
	}
	nativeBlock = nativeBlocking{nativeKC, nativeMC, nativeNC}
	nativeDirectA = nativeDirectAN
	nativeDirectB = nativeDirectBM
	nativePanelB = true
}
