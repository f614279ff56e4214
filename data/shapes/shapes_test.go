package shapes

import (
	"slices"
	"strings"
	"testing"
)

func TestVocab(t *testing.T) {
	v := NewVocab([]string{"a", "red", "a"})
	if v.Size() != 5 || v.Words[3] != "a" || v.Words[4] != "red" {
		t.Fatalf("vocabulary %v", v.Words)
	}
	ids, err := v.Tokenize("a red")
	if err != nil || !slices.Equal(ids, []int{BosID, 3, 4, EosID}) {
		t.Fatalf("Tokenize(a red) = %v, %v", ids, err)
	}
	if got := v.Decode(ids); got != "<bos> a red <eos>" {
		t.Errorf("Decode = %q", got)
	}
	if _, err := v.Encode("a blue"); err == nil || !strings.Contains(err.Error(), `"blue"`) {
		t.Errorf("unknown word: %v", err)
	}
}

// The split holds 12 classes each side, with every colour and every pattern
// on both sides; the images and pairs are reproducible from their seed.
func TestTask(t *testing.T) {
	task := NewTask()
	if len(task.Classes) != 24 || len(task.Base) != 12 || len(task.New) != 12 {
		t.Fatalf("%d classes, %d base, %d new", len(task.Classes), len(task.Base), len(task.New))
	}
	for _, half := range [][]string{task.BaseNames(), task.NewNames()} {
		words := strings.Fields(strings.Join(half, " "))
		for _, w := range append(slices.Clone(Colours), Patterns...) {
			if !slices.Contains(words, w) {
				t.Errorf("%q missing from %v", w, half)
			}
		}
	}
	a, err := task.Images("a", task.New, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := task.Images("b", task.New, 3, 7)
	if !slices.Equal(a.X.Shape(), []int{36, 3, 16, 16}) || !slices.Equal(a.X.Data(), b.X.Data()) || a.Labels[13] != 1 || a.Classes[1] != task.Classes[task.New[1]] {
		t.Errorf("images %v, labels %v, classes %v", a.X.Shape(), a.Labels, a.Classes)
	}
	if _, err := task.Images("x", []int{24}, 1, 1); err == nil {
		t.Error("class 24 accepted")
	}
	x, caps, labels, err := task.Pairs(50, 3)
	if err != nil || x.Dim(0) != 50 || len(caps) != 50 || len(labels) != 50 {
		t.Fatal(err)
	}
	for i, c := range caps {
		if c[0] != BosID || c[len(c)-1] != EosID {
			t.Fatalf("caption %d %v lacks the begin/end tokens", i, c)
		}
		text := task.Vocab.Decode(c)
		name := strings.Fields(task.Classes[labels[i]])
		if !strings.Contains(text, name[0]) && !strings.Contains(text, name[1]) {
			t.Errorf("caption %q names neither attribute of %q", text, task.Classes[labels[i]])
		}
	}
}

func TestShifted(t *testing.T) {
	task := NewTask()
	s := task.Shifted(0.4)
	if s.Background != 0.4 || task.Background != 0.1 || s.Vocab != task.Vocab {
		t.Fatalf("shifted background %v, original %v", s.Background, task.Background)
	}
	s.Noise = 0
	ds, err := s.Images("x", []int{0}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := ds.X.At(0, 0, 0, 0); got != 0.4 { // the corner is background
		t.Errorf("corner pixel %v, want 0.4", got)
	}
}
