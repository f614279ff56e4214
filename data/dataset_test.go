package data

import (
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/nn/train"
	"github.com/graftml/graft/tensor"
)

// indexed returns a dataset whose row i is (i, 10·i), with the labels given.
func indexed(t *testing.T, labels []int, classes []string) *Dataset {
	t.Helper()
	v := make([]float32, 2*len(labels))
	for i := range labels {
		v[2*i], v[2*i+1] = float32(i), float32(10*i)
	}
	d, err := New("indexed", tensor.New(v, len(labels), 2), labels, classes)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rowIDs returns the first column of x as ints: the original row numbers
// of an indexed dataset.
func rowIDs(x *tensor.Tensor) []int {
	ids := make([]int, x.Dim(0))
	for i := range ids {
		ids[i] = int(x.At(i, 0))
	}
	return ids
}

func TestClassCounts(t *testing.T) {
	d := indexed(t, []int{0, 2, 2, 1, 2}, nil)
	if k, c := d.NumClasses(), d.ClassCounts(); k != 3 || !slices.Equal(c, []int{1, 1, 3}) {
		t.Fatalf("NumClasses %d, ClassCounts %v; want 3, [1 1 3]", k, c)
	}
	d = indexed(t, []int{0, 2, 2, 1, 2}, []string{"a", "b", "c", "d"})
	if k, c := d.NumClasses(), d.ClassCounts(); k != 4 || !slices.Equal(c, []int{1, 1, 3, 0}) {
		t.Fatalf("with 4 named classes: NumClasses %d, ClassCounts %v; want 4, [1 1 3 0]", k, c)
	}
	if d.ClassName(3) != "d" || indexed(t, []int{0}, nil).ClassName(7) != "7" {
		t.Fatalf("ClassName: %q", d.ClassName(3))
	}
	u := &Dataset{Name: "u", X: tensor.Zeros(3, 1)}
	if u.NumClasses() != 0 || u.ClassCounts() != nil {
		t.Fatalf("unlabelled: NumClasses %d, ClassCounts %v", u.NumClasses(), u.ClassCounts())
	}
}

func TestApportion(t *testing.T) {
	for _, c := range []struct {
		total   int
		weights []int
		want    []int
	}{
		{20, []int{70, 30}, []int{14, 6}},
		{4, []int{5, 5, 5}, []int{2, 1, 1}},  // 4/3 each: the remainder goes to the first
		{3, []int{1, 6, 3}, []int{0, 2, 1}},  // 0.3, 1.8, 0.9
		{5, []int{2, 0, 10}, []int{1, 0, 4}}, // 0.83, 0, 4.17
	} {
		if got := apportion(c.total, c.weights); !slices.Equal(got, c.want) {
			t.Errorf("apportion(%d, %v) = %v, want %v", c.total, c.weights, got, c.want)
		}
	}
}

func TestSplitStratified(t *testing.T) {
	labels := make([]int, 100)
	for i := 70; i < 100; i++ {
		labels[i] = 1
	}
	d := indexed(t, labels, []string{"no", "yes"})
	tr, held, err := d.Split(0.2, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.ClassCounts(), []int{56, 24}) || !slices.Equal(held.ClassCounts(), []int{14, 6}) {
		t.Fatalf("class counts train %v held %v, want [56 24] and [14 6]", tr.ClassCounts(), held.ClassCounts())
	}
	a, b := rowIDs(tr.X), rowIDs(held.X)
	all := append(append([]int(nil), a...), b...)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("train and held-out rows are not a partition of 0..99: %v", all)
		}
	}
	if !slices.IsSorted(a) || !slices.IsSorted(b) {
		t.Fatalf("parts are not in the original order: %v %v", a, b)
	}
	for i, id := range b {
		if held.Labels[i] != labels[id] || held.X.At(i, 1) != float32(10*id) {
			t.Fatalf("held-out row %d (original %d) lost its label or values", i, id)
		}
	}
	if held.Name != "indexed (held out)" || tr.Name != "indexed (train)" {
		t.Fatalf("names %q, %q", tr.Name, held.Name)
	}
	_, again, _ := d.Split(0.2, 5)
	_, other, _ := d.Split(0.2, 6)
	if !slices.Equal(rowIDs(again.X), b) || slices.Equal(rowIDs(other.X), b) {
		t.Fatalf("seed 5 twice gave %v and %v; seed 6 gave %v", b, rowIDs(again.X), rowIDs(other.X))
	}

	// Unlabelled: just the count.
	u := &Dataset{Name: "u", X: tensor.Zeros(10, 1)}
	ut, uh, err := u.Split(0.25, 1)
	if err != nil || ut.Len() != 7 || uh.Len() != 3 { // round(2.5) = 3
		t.Fatalf("unlabelled split: %v, %d + %d", err, ut.Len(), uh.Len())
	}
	for _, c := range []struct {
		frac float64
		want string
	}{{0, "want a fraction"}, {1, "want a fraction"}, {-0.5, "want a fraction"}, {0.01, "0 held out"}, {0.99, "leaves 0 to train"}} {
		if _, _, err := u.Split(c.frac, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Split(%v): error %v, want one containing %q", c.frac, err, c.want)
		}
	}
}

func TestShuffleAndMap(t *testing.T) {
	d := indexed(t, []int{0, 1, 0, 1, 1, 0}, nil)
	s := d.Shuffle(3)
	ids := rowIDs(s.X)
	for i, id := range ids {
		if s.Labels[i] != d.Labels[id] {
			t.Fatalf("shuffled row %d (original %d) has label %d, want %d", i, id, s.Labels[i], d.Labels[id])
		}
	}
	sorted := slices.Sorted(slices.Values(ids))
	if !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5}) || slices.Equal(ids, sorted) {
		t.Fatalf("shuffled order %v is not a new permutation", ids)
	}
	if !slices.Equal(rowIDs(d.Shuffle(3).X), ids) {
		t.Fatalf("same seed, different order")
	}

	m, err := d.Map("doubled", func(x *tensor.Tensor) *tensor.Tensor { return x.Scale(2) })
	if err != nil || m.Name != "doubled" || m.X.At(3, 1) != 60 || !slices.Equal(m.Labels, d.Labels) {
		t.Fatalf("Map: %v, %q, %v", err, m.Name, m.X.At(3, 1))
	}
	if _, err := d.Map("", func(x *tensor.Tensor) *tensor.Tensor { return x.Slice(0, 0, 2) }); err == nil || !strings.Contains(err.Error(), "must keep the 6 rows") {
		t.Fatalf("Map dropping rows: error %v", err)
	}
	if _, err := d.Map("rot", func(x *tensor.Tensor) *tensor.Tensor { return Rotate(x, 10) }); err == nil || !strings.Contains(err.Error(), `mapping "indexed" to "rot": data.Rotate: images have shape (6,2)`) {
		t.Fatalf("Map with a panicking transform: error %v", err)
	}
}

// drain returns the row ids of every batch left in the loader's epoch.
func drain(l *Loader) [][]int {
	var out [][]int
	for b, ok := l.Next(); ok; b, ok = l.Next() {
		out = append(out, rowIDs(b.X))
	}
	return out
}

func TestLoader(t *testing.T) {
	d := indexed(t, make([]int, 10), nil)
	l, err := NewLoader(d, LoaderOptions{BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(l)
	want := [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}
	if l.Len() != 3 || !slices.EqualFunc(got, want, slices.Equal) || l.Epoch() != 1 {
		t.Fatalf("in order: Len %d, batches %v, epoch %d; want 3, %v, 1", l.Len(), got, l.Epoch(), want)
	}
	l.Reset()
	if again := drain(l); !slices.EqualFunc(again, want, slices.Equal) || l.Epoch() != 2 {
		t.Fatalf("epoch 2 in order: %v (epoch %d)", again, l.Epoch())
	}

	l, _ = NewLoader(d, LoaderOptions{BatchSize: 4, DropLast: true, Shuffle: true, Seed: 9})
	e1 := drain(l)
	l.Reset()
	e2 := drain(l)
	if l.Len() != 2 || len(e1) != 2 || len(e2) != 2 || len(e1[1]) != 4 {
		t.Fatalf("drop-last: Len %d, epochs %v %v", l.Len(), e1, e2)
	}
	if slices.EqualFunc(e1, e2, slices.Equal) {
		t.Fatalf("epochs 1 and 2 drew the same order %v", e1)
	}
	seen := map[int]bool{}
	for _, b := range e1 {
		for _, id := range b {
			if seen[id] {
				t.Fatalf("row %d twice in one epoch: %v", id, e1)
			}
			seen[id] = true
		}
	}
	m, _ := NewLoader(d, LoaderOptions{BatchSize: 4, DropLast: true, Shuffle: true, Seed: 9})
	if f1 := drain(m); !slices.EqualFunc(f1, e1, slices.Equal) {
		t.Fatalf("same seed: %v then %v", e1, f1)
	}
	m.Reset()
	if f2 := drain(m); !slices.EqualFunc(f2, e2, slices.Equal) {
		t.Fatalf("same seed, epoch 2: %v then %v", e2, f2)
	}

	for _, c := range []struct {
		opt  LoaderOptions
		ds   train.Dataset
		want string
	}{
		{LoaderOptions{BatchSize: -1}, d, "BatchSize is -1"},
		{LoaderOptions{BatchSize: 11, DropLast: true}, d, "10 examples give no batch of 11"},
		{LoaderOptions{Balanced: true}, &Dataset{Name: "u", X: tensor.Zeros(3, 1)}, `"u": Balanced needs labels`},
	} {
		if _, err := NewLoader(c.ds, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewLoader(%+v): error %v, want one containing %q", c.opt, err, c.want)
		}
	}
	if l, err := NewLoader(d, LoaderOptions{}); err != nil || l.BatchSize() != train.DefaultBatchSize {
		t.Fatalf("default batch size: %v", err)
	}
}

func TestLoaderBalanced(t *testing.T) {
	labels := make([]int, 1000)
	for i := 900; i < 1000; i++ {
		labels[i] = 2 // class 1 has no examples: it is never drawn
	}
	for _, ds := range []train.Dataset{
		indexed(t, labels, nil),
		func() train.Dataset { // a plain train.Dataset: labels come from its batches
			td, err := train.NewLabelledDataset(indexed(t, labels, nil).X, labels)
			if err != nil {
				t.Fatal(err)
			}
			return td
		}(),
	} {
		l, err := NewLoader(ds, LoaderOptions{BatchSize: 100, Balanced: true, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if l.Len() != 10 {
			t.Fatalf("Len %d, want 10", l.Len())
		}
		counts := make([]int, 3)
		for b, ok := l.Next(); ok; b, ok = l.Next() {
			for i, y := range b.Labels {
				counts[y]++
				if labels[int(b.X.At(i, 0))] != y {
					t.Fatalf("a batch's label %d does not belong to row %v", y, b.X.At(i, 0))
				}
			}
		}
		// 1000 fair coin flips: the rare class gets 500 ± 16 (one sd).
		if counts[1] != 0 || counts[2] < 440 || counts[2] > 560 {
			t.Fatalf("%T: balanced class counts %v, want about [500 0 500]", ds, counts)
		}
	}
}

func TestPairLoader(t *testing.T) {
	src := indexed(t, make([]int, 10), nil)
	tgt := indexed(t, make([]int, 4), nil)
	p, err := NewPairLoader(src, tgt, LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 3 {
		t.Fatalf("Len %d, want 3 (the source's batches)", p.Len())
	}
	var srcIDs, tgtIDs [][]int
	for range 7 {
		s, g := p.Next()
		srcIDs, tgtIDs = append(srcIDs, rowIDs(s.X)), append(tgtIDs, rowIDs(g.X))
	}
	// The source's epochs are steps 1–3 and 4–6; each covers 0..9 once.
	for e := range 2 {
		var all []int
		for _, b := range srcIDs[3*e : 3*e+3] {
			all = append(all, b...)
		}
		if slices.Sort(all); !slices.Equal(all, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Fatalf("source epoch %d visits %v", e+1, all)
		}
	}
	// The target cycles: every step is a whole new permutation of 0..3.
	for i, b := range tgtIDs {
		if s := slices.Sorted(slices.Values(b)); !slices.Equal(s, []int{0, 1, 2, 3}) {
			t.Fatalf("target step %d: %v", i+1, b)
		}
	}
	if p.Step() != 7 || p.Epoch() != 3 || p.Source().Epoch() != 3 || p.Target().Epoch() != 7 {
		t.Fatalf("after 7 steps: Step %d, Epoch %d, source epoch %d, target epoch %d; want 7, 3, 3, 7",
			p.Step(), p.Epoch(), p.Source().Epoch(), p.Target().Epoch())
	}
	q, _ := NewPairLoader(src, tgt, LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 2})
	for i := range 7 {
		s, g := q.Next()
		if !slices.Equal(rowIDs(s.X), srcIDs[i]) || !slices.Equal(rowIDs(g.X), tgtIDs[i]) {
			t.Fatalf("same seed, step %d differs", i+1)
		}
	}
	if slices.Equal(srcIDs[0][:4], tgtIDs[0]) {
		t.Fatalf("source and target drew the same order")
	}
	if _, err := NewPairLoader(src, tgt, LoaderOptions{BatchSize: 5, DropLast: true}); err == nil || !strings.Contains(err.Error(), "target: ") {
		t.Fatalf("a target smaller than a batch: error %v", err)
	}
}
