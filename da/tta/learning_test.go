package tta_test

import (
	"testing"

	"github.com/graftml/graft/da/tta"
	"github.com/graftml/graft/models"
)

// TestAdaptationLearns trains an MLP with batch norm on UCI digits and runs
// the methods over held-out digits under a sequence of corruptions, for two
// seeds. Batch-norm adaptation, Tent, SHOT and CoTTA must beat the
// unadapted source model by clear margins on the shifted stream; on a
// class-ordered stream (each batch one or two classes) batch statistics
// fail, and LAME must improve on the source model, and never hurt it on the
// clean i.i.d. stream.
func TestAdaptationLearns(t *testing.T) {
	corruptions := []tta.Corruption{tta.Noise(0.3), tta.Contrast(0.4), tta.Brightness(0.3), tta.Blur(0.8), tta.Rotation(20)}
	for _, seed := range []uint64{1, 2} {
		train, held := digitsSplit(t, seed)
		src := trainMLP(t, train, seed, 15)
		shifted, err := tta.NewStream(held, corruptions, tta.StreamOptions{BatchSize: 64, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := tta.Compare(shifted, nil, defaults(t, src)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d:\n%s", seed, rep)
		mean := func(r *tta.Report, method string, mode tta.Mode) float64 {
			t.Helper()
			res := r.Find(method, mode)
			if res == nil {
				t.Fatalf("no result for %s (%s)", method, mode)
			}
			return 100 * res.Mean
		}
		base := mean(rep, "Source", tta.Continual)
		for _, c := range []struct {
			method string
			mode   tta.Mode
			margin float64
		}{
			{"BN", tta.Episodic, 10}, {"α-BN (α=0.5)", tta.Episodic, 8}, {"AdaBN", tta.Episodic, 10},
			{"Tent", tta.Episodic, 10}, {"Tent", tta.Continual, 10}, {"SHOT", tta.Continual, 10},
			{"CoTTA", tta.Continual, 8},
		} {
			if got := mean(rep, c.method, c.mode); got < base+c.margin {
				t.Errorf("seed %d: %s (%s) mean accuracy %.1f%%, want ≥ source %.1f%% + %g", seed, c.method, c.mode, got, base, c.margin)
			}
		}

		if tent, bn := mean(rep, "Tent", tta.Continual), mean(rep, "BN", tta.Continual); tent < bn {
			t.Errorf("seed %d: Tent (continual) %.1f%% is below test-batch normalisation alone, %.1f%%", seed, tent, bn)
		}

		clean, _ := tta.NewStream(held, []tta.Corruption{tta.Clean()}, tta.StreamOptions{Seed: seed})
		sorted, _ := tta.NewStream(held, []tta.Corruption{tta.Clean(), tta.Noise(0.2)}, tta.StreamOptions{Seed: seed, ByClass: true})
		source, _ := tta.NewSource(src)
		lame, _ := tta.NewLAME(src, tta.LAMEOptions{})
		bn, _ := tta.NewBN(src, tta.BNOptions{})
		for _, s := range []struct {
			stream *tta.Stream
			name   string
		}{{clean, "clean"}, {sorted, "class-ordered"}} {
			r, err := tta.Compare(s.stream, []tta.Mode{tta.Continual}, source, bn, lame)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("seed %d, %s stream:\n%s", seed, s.name, r)
			src, l, b := mean(r, "Source", tta.Continual), mean(r, "LAME", tta.Continual), mean(r, "BN", tta.Continual)
			switch s.name {
			case "clean":
				if l < src-1 {
					t.Errorf("seed %d: LAME %.1f%% hurts the source model's %.1f%% on clean digits", seed, l, src)
				}
			default:
				if l < src+1.5 {
					t.Errorf("seed %d: LAME %.1f%%, want ≥ source %.1f%% + 1.5 on the class-ordered stream", seed, l, src)
				}
				if b > src-30 {
					t.Errorf("seed %d: BN %.1f%% on the class-ordered stream; batch statistics of one class should fail (source %.1f%%)", seed, b, src)
				}
			}
		}
	}
}

// defaults returns each method on src with its default settings.
func defaults(t testing.TB, src models.Classifier) []tta.Method {
	t.Helper()
	return methodSet(t, src, methodOptions{})
}
