package data

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// pointSet returns the rows of a 2-D labelled dataset as "x,y:label"
// strings (rounded to 1e-5), sorted, to compare sets of points.
func pointSet(d *Dataset) []string {
	out := make([]string, d.Len())
	for i := range out {
		out[i] = fmt.Sprintf("%.5f,%.5f:%d", d.X.At(i, 0)+0, d.X.At(i, 1)+0, d.Labels[i])
		out[i] = strings.ReplaceAll(out[i], "-0.00000", "0.00000")
	}
	slices.Sort(out)
	return out
}

func set(points ...string) []string { slices.Sort(points); return points }

func TestTwoMoons(t *testing.T) {
	d, err := TwoMoons(5, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Outer (class 0): t = 0, π on (cos t, sin t); inner (class 1):
	// t = 0, π/2, π on (1 − cos t, 0.5 − sin t).
	want := set("1.00000,0.00000:0", "-1.00000,0.00000:0", "0.00000,0.50000:1", "1.00000,-0.50000:1", "2.00000,0.50000:1")
	if got := pointSet(d); !slices.Equal(got, want) {
		t.Fatalf("noiseless moons %v, want %v", got, want)
	}
	if d.Classes[0] != "outer" || d.Classes[1] != "inner" {
		t.Fatalf("classes %v", d.Classes)
	}
	a, _ := TwoMoons(200, 0.1, 4)
	b, _ := TwoMoons(200, 0.1, 4)
	if !slices.Equal(a.X.Data(), b.X.Data()) || !slices.Equal(a.Labels, b.Labels) {
		t.Fatalf("same seed, different moons")
	}
	if !slices.Equal(a.ClassCounts(), []int{100, 100}) {
		t.Fatalf("class counts %v", a.ClassCounts())
	}
	for _, c := range []struct {
		n     int
		noise float64
		want  string
	}{{1, 0.1, "n is 1"}, {10, -1, "noise is -1"}} {
		if _, err := TwoMoons(c.n, c.noise, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("TwoMoons(%d, %v): error %v", c.n, c.noise, err)
		}
	}
}

func TestRotatedMoons(t *testing.T) {
	p, err := RotatedMoons(6, 0, 90, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Without noise both domains hold the same points; the target's are
	// turned 90° about (0.5, 0.25): (x, y) → (0.75 − y, x − 0.25).
	rot := &Dataset{X: p.Source.X.Clone(), Labels: p.Source.Labels}
	for i := range rot.Len() {
		x, y := rot.X.At(i, 0), rot.X.At(i, 1)
		rot.X.SetAt(0.75-y, i, 0)
		rot.X.SetAt(x-0.25, i, 1)
	}
	if got, want := pointSet(p.Target), pointSet(rot); !slices.Equal(got, want) {
		t.Fatalf("target %v, want the source turned 90°: %v", got, want)
	}
	if !strings.Contains(p.Shift, "rotated 90° counter-clockwise about the moons' centre (0.5, 0.25)") {
		t.Fatalf("Shift %q", p.Shift)
	}
	q, _ := RotatedMoons(100, 0.1, 30, 3)
	r, _ := RotatedMoons(100, 0.1, 30, 3)
	if slices.Equal(q.Source.X.Data(), q.Target.X.Data()) || !slices.Equal(q.Target.X.Data(), r.Target.X.Data()) {
		t.Fatalf("the domains must be independent draws, and the same seed must repeat them")
	}
	if _, err := RotatedMoons(1, 0, 30, 1); err == nil || !strings.Contains(err.Error(), "data.RotatedMoons: data.TwoMoons: n is 1") {
		t.Fatalf("error %v", err)
	}
}

// classStats returns the mean of each coordinate and the pooled standard
// deviation about the means, per class.
func classStats(d *Dataset) (means [][2]float64, stds []float64) {
	k := d.NumClasses()
	means, stds = make([][2]float64, k), make([]float64, k)
	counts := d.ClassCounts()
	for i, y := range d.Labels {
		means[y][0] += float64(d.X.At(i, 0)) / float64(counts[y])
		means[y][1] += float64(d.X.At(i, 1)) / float64(counts[y])
	}
	for i, y := range d.Labels {
		for j := range 2 {
			e := float64(d.X.At(i, j)) - means[y][j]
			stds[y] += e * e / float64(2*counts[y])
		}
	}
	for y := range stds {
		stds[y] = math.Sqrt(stds[y])
	}
	return means, stds
}

func TestBlobs(t *testing.T) {
	d, err := Blobs(7, BlobOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.ClassCounts(), []int{3, 2, 2}) || d.X.Dim(1) != 2 {
		t.Fatalf("7 points in 3 blobs: counts %v, shape %v", d.ClassCounts(), d.X.Shape())
	}
	big, _ := Blobs(30000, BlobOptions{Seed: 2, Classes: 3, Radius: 4, Std: 0.5})
	means, stds := classStats(big)
	for k := range 3 {
		a := 2 * math.Pi * float64(k) / 3
		// 10,000 points a class: standard errors 0.005 (mean), 0.0025 (std).
		if math.Abs(means[k][0]-4*math.Cos(a)) > 0.02 || math.Abs(means[k][1]-4*math.Sin(a)) > 0.02 || math.Abs(stds[k]-0.5) > 0.01 {
			t.Fatalf("blob %d: mean %v, std %v; want (%.3f, %.3f) and 0.5", k, means[k], stds[k], 4*math.Cos(a), 4*math.Sin(a))
		}
	}
	wide, _ := Blobs(4, BlobOptions{Dim: 5})
	if wide.X.Dim(1) != 5 {
		t.Fatalf("Dim 5: shape %v", wide.X.Shape())
	}
	for _, c := range []struct {
		opt  BlobOptions
		want string
	}{{BlobOptions{Classes: 1}, "Classes is 1"}, {BlobOptions{Dim: 1}, "Dim is 1"}, {BlobOptions{Std: -1}, "must not be negative"}} {
		if _, err := Blobs(10, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Blobs(%+v): error %v", c.opt, err)
		}
	}
}

func TestCovariateShiftBlobs(t *testing.T) {
	p, err := CovariateShiftBlobs(3000, BlobOptions{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	// Both domains follow the same rule: the nearest of the centres
	// 3·(cos 2πk/3, sin 2πk/3).
	for _, d := range []*Dataset{p.Source, p.Target} {
		for i, y := range d.Labels {
			x0, x1 := float64(d.X.At(i, 0)), float64(d.X.At(i, 1))
			best, arg := math.Inf(1), -1
			for k := range 3 {
				a := 2 * math.Pi * float64(k) / 3
				if e := math.Hypot(x0-3*math.Cos(a), x1-3*math.Sin(a)); e < best {
					best, arg = e, k
				}
			}
			if y != arg {
				t.Fatalf("%s: point (%v, %v) labelled %d, nearest centre %d", d.Name, x0, x1, y, arg)
			}
		}
	}
	// Moved right by 1.5: the target has more of blob 0 (at (3, 0)) than
	// the source.
	if s, g := p.Source.ClassCounts(), p.Target.ClassCounts(); g[0] <= s[0]+200 {
		t.Fatalf("class counts source %v target %v: the shift should move mass to blob 0", s, g)
	}
	if !strings.Contains(p.Shift, "covariate shift: target means moved by (1.5, 0), std ×1.5; both labelled by the nearest source centre") {
		t.Fatalf("Shift %q", p.Shift)
	}

	// With the blobs' own labels, the target's classes are the source's
	// moved by Shift and widened by Scale.
	c, err := CovariateShiftBlobs(30000, BlobOptions{Seed: 6, Shift: []float64{-1, 2}, Scale: 2, Std: 0.5, ComponentLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	sm, ss := classStats(c.Source)
	tm, ts := classStats(c.Target)
	for k := range 3 {
		if math.Abs(tm[k][0]-sm[k][0]+1) > 0.04 || math.Abs(tm[k][1]-sm[k][1]-2) > 0.04 || math.Abs(ss[k]-0.5) > 0.01 || math.Abs(ts[k]-1) > 0.02 {
			t.Fatalf("class %d: source mean %v std %v, target mean %v std %v", k, sm[k], ss[k], tm[k], ts[k])
		}
	}
	if !strings.HasPrefix(c.Shift, "class-conditional shift") {
		t.Fatalf("Shift %q", c.Shift)
	}
	if _, err := CovariateShiftBlobs(10, BlobOptions{Shift: []float64{1}}); err == nil || !strings.Contains(err.Error(), "Shift has 1 values for Dim 2") {
		t.Fatalf("error %v", err)
	}
}

func TestSpirals(t *testing.T) {
	d, err := Spirals(6, 2, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	// t = 1/6, 1/2, 5/6 on each arm, radius t, angle 2πt (+π for arm 1).
	var want []string
	for k := range 2 {
		for _, tt := range []float64{1.0 / 6, 0.5, 5.0 / 6} {
			a := math.Pi*float64(k) + 2*math.Pi*tt
			s := fmt.Sprintf("%.5f,%.5f:%d", float32(tt*math.Cos(a))+0, float32(tt*math.Sin(a))+0, k)
			want = append(want, strings.ReplaceAll(s, "-0.00000", "0.00000"))
		}
	}
	if got := pointSet(d); !slices.Equal(got, set(want...)) {
		t.Fatalf("spirals %v, want %v", got, set(want...))
	}
	if e, _ := Spirals(10, 3, 0.1, 2); !slices.Equal(e.ClassCounts(), []int{4, 3, 3}) {
		t.Fatalf("10 points on 3 arms: %v", e.ClassCounts())
	}
	if _, err := Spirals(2, 3, 0, 1); err == nil || !strings.Contains(err.Error(), "at least one point per class") {
		t.Fatalf("error %v", err)
	}
}

func TestLabelShift(t *testing.T) {
	labels := make([]int, 100)
	for i := 60; i < 100; i++ {
		labels[i] = 1
	}
	d := indexed(t, labels, []string{"a", "b"})
	s, err := LabelShift(d, []float64{1, 4}, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.ClassCounts(), []int{10, 40}) {
		t.Fatalf("priors [0.2 0.8] of 50: counts %v, want [10 40]", s.ClassCounts())
	}
	ids := rowIDs(s.X)
	for i, id := range ids {
		if s.Labels[i] != labels[id] {
			t.Fatalf("row %d (original %d) has label %d", i, id, s.Labels[i])
		}
	}
	if u := slices.Compact(slices.Sorted(slices.Values(ids))); len(u) != 50 {
		t.Fatalf("drawn with replacement: %d distinct rows of 50", len(u))
	}
	for _, c := range []struct {
		priors []float64
		n      int
		want   string
	}{
		{[]float64{0, 1}, 50, "class b needs 50 examples (prior 1 of 50) but \"indexed\" has 40"},
		{[]float64{1}, 10, "1 priors for the 2 classes"},
		{[]float64{0, 0}, 10, "all 0"},
		{[]float64{-1, 2}, 10, "prior 0 is -1"},
	} {
		if _, err := LabelShift(d, c.priors, c.n, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LabelShift(%v, %d): error %v, want %q", c.priors, c.n, err, c.want)
		}
	}

	half := make([]int, 400)
	for i := 200; i < 400; i++ {
		half[i] = 1
	}
	p, err := LabelShiftPair(indexed(t, half, nil), nil, []float64{0.9, 0.1}, 100, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Source.ClassCounts(), []int{50, 50}) || !slices.Equal(p.Target.ClassCounts(), []int{90, 10}) {
		t.Fatalf("pair counts %v, %v", p.Source.ClassCounts(), p.Target.ClassCounts())
	}
	in := map[int]bool{}
	for _, id := range rowIDs(p.Source.X) {
		in[id] = true
	}
	for _, id := range rowIDs(p.Target.X) {
		if in[id] {
			t.Fatalf("row %d is in both domains", id)
		}
	}
	if !strings.Contains(p.Shift, "label shift: class priors p(y) [0.50 0.50] → [0.90 0.10]; p(x|y) unchanged") {
		t.Fatalf("Shift %q", p.Shift)
	}
}
