package prompt

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

// Saved prompts load into a fresh learner of the same configuration and
// give the same logits; a learner of another method or shape is refused and
// left unchanged.
func TestSaveLoadPrompts(t *testing.T) {
	m, task := tiny(t)
	classes := task.BaseNames()
	images, err := task.Images("x", task.Base[:3], 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, build := range []func(seed uint64) (Learner, error){
		func(seed uint64) (Learner, error) {
			return NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 3, Seed: seed})
		},
		func(seed uint64) (Learner, error) {
			return NewCoCoOp(m, task.Vocab, classes, CoCoOpConfig{M: 2, Seed: seed})
		},
		func(seed uint64) (Learner, error) {
			return NewMaPLe(m, task.Vocab, classes, MaPLeConfig{M: 2, Depth: 2, Seed: seed})
		},
	} {
		trained, err := build(1)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, trained.Name()+".safetensors")
		if err := Save(trained, path); err != nil {
			t.Fatal(err)
		}
		fresh, err := build(2)
		if err != nil {
			t.Fatal(err)
		}
		want, err := trained.Logits(images.X, classes)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := fresh.Logits(images.X, classes)
		if close32(before.Data(), want.Data(), 1e-6) {
			t.Fatalf("%s: two seeds give the same logits; the test cannot tell a load from none", trained.Name())
		}
		if err := Load(fresh, path); err != nil {
			t.Fatal(err)
		}
		got, _ := fresh.Logits(images.X, classes)
		if !close32(got.Data(), want.Data(), 0) {
			t.Errorf("%s: logits after Load differ from the saved learner's", trained.Name())
		}
	}

	// Another method, or the same with another shape, is refused untouched.
	coop, _ := NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 3, Seed: 1})
	other, _ := NewCoOp(m, task.Vocab, classes, CoOpConfig{M: 4, Seed: 7})
	keep := tensor.New(append([]float32(nil), other.Context.Data()...), other.Context.Shape()...)
	coopPath := filepath.Join(dir, coop.Name()+".safetensors")
	if err := Save(coop, coopPath); err != nil {
		t.Fatal(err)
	}
	cocoop, _ := NewCoCoOp(m, task.Vocab, classes, CoCoOpConfig{M: 3})
	cocoopPath := filepath.Join(dir, "cocoop.safetensors")
	if err := Save(cocoop, cocoopPath); err != nil {
		t.Fatal(err)
	}
	wider, _ := NewCoCoOp(m, task.Vocab, classes, CoCoOpConfig{M: 3, Hidden: 16})
	for _, tc := range []struct {
		l    Learner
		path string
		want string
	}{
		{cocoop, coopPath, `holds prompts of "CoOp (M=3, end)", not of "CoCoOp (M=3)"`},
		{other, coopPath, `not of "CoOp (M=4, end)"`},
		{wider, cocoopPath, "has shape [8 32]"},
	} {
		err := Load(tc.l, tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load into %s: err %v, want one containing %q", tc.l.Name(), err, tc.want)
		}
	}
	if !close32(other.Context.Data(), keep.Data(), 0) {
		t.Error("a refused Load changed the learner's context")
	}
	if err := Load(coop, filepath.Join(dir, "missing.safetensors")); err == nil {
		t.Error("Load of a missing file: no error")
	}
}
