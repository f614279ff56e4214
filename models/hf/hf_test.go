package hf

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// toy is a small model with GPT-2-like names: wte.weight, h.{i}.attn.c_attn.weight,
// h.{i}.attn.c_attn.bias, ln_f.weight, ln_f.bias.
type toy struct {
	Wte *nn.Embedding
	H   []*toyBlock
	LnF *nn.LayerNorm `nn:"ln_f"`
}

type toyBlock struct {
	Attn *toyAttn
}

type toyAttn struct {
	CAttn *nn.Linear `nn:"c_attn"`
}

func newToy(width int, seed uint64) *toy {
	r := tensor.NewRNG(seed)
	m := &toy{Wte: nn.NewEmbedding(10, 4, r), LnF: nn.NewLayerNorm(4)}
	for range 2 {
		m.H = append(m.H, &toyBlock{&toyAttn{nn.NewLinear(4, width, true, r)}})
	}
	nn.NormalInit(m.LnF.Weight, r, 1, 0.1)
	return m
}

// wrapped is toy inside a task model, as GPT2LMHeadModel holds GPT2Model.
type wrapped struct {
	Transformer *toy
	LMHead      *nn.Linear `nn:"lm_head"`
}

func stateEqual(t *testing.T, got, want nn.Module) {
	t.Helper()
	g, w := nn.StateDict(got), nn.StateDict(want)
	if len(g) != len(w) {
		t.Fatalf("%d tensors, want %d", len(g), len(w))
	}
	for i := range g {
		if g[i].Name != w[i].Name || !slices.Equal(g[i].Tensor.Data(), w[i].Tensor.Data()) {
			t.Fatalf("tensor %s differs from %s", g[i].Name, w[i].Name)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := newToy(12, 1)
	if err := SaveWeights(src, dir, map[string]string{"note": "x"}); err != nil {
		t.Fatal(err)
	}
	dst := newToy(12, 2)
	if err := LoadWeights(dst, dir, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	stateEqual(t, dst, src)
	w, err := OpenWeights(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if md := w.Metadata(); md["format"] != "pt" || md["note"] != "x" {
		t.Errorf("metadata %v, want format=pt and note=x", md)
	}
	want := []string{"h.0.attn.c_attn.bias", "h.0.attn.c_attn.weight", "h.1.attn.c_attn.bias", "h.1.attn.c_attn.weight", "ln_f.bias", "ln_f.weight", "wte.weight"}
	if got := w.Names(); !slices.Equal(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
}

func TestShardedLoading(t *testing.T) {
	dir := t.TempDir()
	src := newToy(12, 3)
	// In state-dict order the sizes are wte 160 bytes, c_attn weight 192 and
	// bias 48 (twice), ln_f 16+16: a 200-byte limit gives shards
	// [wte] [h.0.w] [h.0.b] [h.1.w] [h.1.b, ln_f.w, ln_f.b] — five shards
	// (h.0.b and h.1.w together would be 240 bytes).
	if err := SaveWeightsSharded(src, dir, 200, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, WeightsFile)); err == nil {
		t.Fatal("a sharded save also wrote model.safetensors")
	}
	var idx struct {
		Metadata  map[string]int64  `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	b, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	total, _ := nn.CountParameters(src)
	if idx.Metadata["total_size"] != int64(4*total) {
		t.Errorf("total_size %d, want %d", idx.Metadata["total_size"], 4*total)
	}
	for name, want := range map[string]string{"wte.weight": "model-00001-of-00005.safetensors", "h.0.attn.c_attn.bias": "model-00003-of-00005.safetensors", "ln_f.bias": "model-00005-of-00005.safetensors"} {
		if got := idx.WeightMap[name]; got != want {
			t.Errorf("%s in %q, want %s (index %v)", name, got, want, idx.WeightMap)
		}
	}
	dst := newToy(12, 4)
	if err := LoadWeights(dst, dir, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	stateEqual(t, dst, src)

	// Two shards and an index written by hand, as a Hugging Face checkpoint has.
	hand := t.TempDir()
	var first, second []safetensors.Entry
	for _, e := range entries(src) {
		if strings.HasPrefix(e.Name, "h.") {
			second = append(second, e)
		} else {
			first = append(first, e)
		}
	}
	wm := map[string]string{}
	for _, sh := range []struct {
		name string
		es   []safetensors.Entry
	}{{"model-00001-of-00002.safetensors", first}, {"model-00002-of-00002.safetensors", second}} {
		if err := safetensors.Save(filepath.Join(hand, sh.name), sh.es, nil); err != nil {
			t.Fatal(err)
		}
		for _, e := range sh.es {
			wm[e.Name] = sh.name
		}
	}
	writeIndex := func(wm map[string]string) {
		b, _ := json.Marshal(map[string]any{"metadata": map[string]int{"total_size": 0}, "weight_map": wm})
		if err := os.WriteFile(filepath.Join(hand, IndexFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeIndex(wm)
	dst = newToy(12, 5)
	if err := LoadWeights(dst, hand, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	stateEqual(t, dst, src)

	// An index that places a tensor in the wrong shard is an error naming both.
	wm["ln_f.bias"] = "model-00002-of-00002.safetensors"
	writeIndex(wm)
	err = LoadWeights(dst, hand, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), `"ln_f.bias"`) || !strings.Contains(err.Error(), "model-00002-of-00002.safetensors, which does not hold it") {
		t.Errorf("wrong shard: got %v", err)
	}
	// An index naming a shard outside the directory is refused.
	wm["ln_f.bias"] = "../evil.safetensors"
	writeIndex(wm)
	if err := LoadWeights(dst, hand, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "not a file name in the checkpoint directory") {
		t.Errorf("shard outside the directory: got %v", err)
	}
}

func TestPrefixStripping(t *testing.T) {
	dir := t.TempDir()
	r := tensor.NewRNG(7)
	src := &wrapped{Transformer: newToy(12, 6), LMHead: nn.NewLinear(4, 10, false, r)}
	if err := SaveWeights(src, dir, nil); err != nil {
		t.Fatal(err)
	}
	dst := newToy(12, 8)
	err := LoadWeights(dst, dir, LoadOptions{})
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("loading prefixed names without renaming: got %v, want a *MismatchError", err)
	}
	if len(me.Missing) != 7 || len(me.Unexpected) != 8 {
		t.Errorf("%d missing and %d unexpected, want 7 and 8", len(me.Missing), len(me.Unexpected))
	}
	if !strings.Contains(err.Error(), `hf.StripPrefix("transformer.")`) {
		t.Errorf("no StripPrefix hint in %q", err)
	}
	strip := StripPrefix("transformer.", "model.")
	rename := func(n string) string {
		if strings.HasPrefix(n, "lm_head.") {
			return ""
		}
		return strip(n)
	}
	if err := LoadWeights(dst, dir, LoadOptions{Rename: rename}); err != nil {
		t.Fatal(err)
	}
	stateEqual(t, dst, src.Transformer)
	for in, want := range map[string]string{"transformer.h.0": "h.0", "model.x": "x", "h.1": "h.1", "transformerx": "transformerx"} {
		if got := strip(in); got != want {
			t.Errorf("StripPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

// saveEntries writes a checkpoint from explicit tensors.
func saveEntries(t *testing.T, es []safetensors.Entry) string {
	t.Helper()
	dir := t.TempDir()
	if err := safetensors.Save(filepath.Join(dir, WeightsFile), es, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// withShape replaces the named entry's shape (and data) in es.
func withShape(es []safetensors.Entry, name string, shape ...int) []safetensors.Entry {
	out := slices.Clone(es)
	for i, e := range out {
		if e.Name == name {
			n := 1
			for _, d := range shape {
				n *= d
			}
			out[i] = safetensors.Entry{Name: name, Shape: shape, Data: make([]float32, n)}
		}
	}
	return out
}

func without(es []safetensors.Entry, names ...string) []safetensors.Entry {
	return slices.DeleteFunc(slices.Clone(es), func(e safetensors.Entry) bool { return slices.Contains(names, e.Name) })
}

func TestMismatchMessages(t *testing.T) {
	ref := newToy(12, 9)
	good := entries(ref)
	extra := safetensors.Entry{Name: "h.0.attn.bias", Shape: []int{1, 1, 3, 3}, Data: make([]float32, 9)}
	pooler := safetensors.Entry{Name: "pooler.weight", Shape: []int{2}, Data: make([]float32, 2)}
	cases := []struct {
		name  string
		es    []safetensors.Entry
		opts  LoadOptions
		want  []string // substrings of the message, in order
		count string   // the counts in parentheses
	}{
		{"shape", withShape(good, "h.0.attn.c_attn.weight", 4, 12), LoadOptions{},
			[]string{"h.0.attn.c_attn.weight: checkpoint (4,12), model expects (12,4)"}, "(1 shape mismatch)"},
		{"missing", without(good, "ln_f.bias"), LoadOptions{},
			[]string{"missing from the checkpoint: ln_f.bias"}, "(1 missing)"},
		{"unexpected", append(slices.Clone(good), extra), LoadOptions{},
			[]string{"not in the model: h.0.attn.bias"}, "(1 unexpected)"},
		{"renamed unexpected", good, LoadOptions{Rename: func(n string) string { return strings.Replace(n, "ln_f", "norm", 1) }},
			[]string{"missing from the checkpoint: ln_f.weight", "not in the model: ln_f.bias (as norm.bias)"}, "(2 missing, 2 unexpected)"},
		{"duplicate", good, LoadOptions{Rename: func(n string) string {
			if n == "h.1.attn.c_attn.bias" {
				return "h.0.attn.c_attn.bias"
			}
			return n
		}}, []string{"missing from the checkpoint: h.1.attn.c_attn.bias", "given more than once: h.0.attn.c_attn.bias (from h.0.attn.c_attn.bias and h.1.attn.c_attn.bias)"}, "(1 missing, 1 duplicate)"},
		{"first five of many", append(withShape(without(good, "ln_f.weight", "ln_f.bias", "wte.weight"), "h.1.attn.c_attn.bias", 11), extra, pooler),
			LoadOptions{}, []string{
				"h.1.attn.c_attn.bias: checkpoint (11), model expects (12)",
				"missing from the checkpoint: wte.weight",
				"missing from the checkpoint: ln_f.weight",
				"missing from the checkpoint: ln_f.bias",
				"not in the model: h.0.attn.bias",
				"… and 1 more"}, "(1 shape mismatch, 3 missing, 2 unexpected)"},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := saveEntries(t, c.es)
			m := newToy(12, 10)
			before := nn.StateDict(newToy(12, 10))
			err := LoadWeights(m, dir, c.opts)
			var me *MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("got %v, want a *MismatchError", err)
			}
			msg := err.Error()
			t.Logf("%s", msg)
			if !strings.Contains(msg, "hf: checkpoint "+dir+" does not fit the model "+c.count) {
				t.Errorf("first line of %q lacks the directory and %s", msg, c.count)
			}
			at := 0
			for _, w := range c.want {
				i := strings.Index(msg[at:], "\n  "+w)
				if i < 0 {
					t.Fatalf("%q lacks line %q (after byte %d)", msg, w, at)
				}
				at += i + 1
			}
			if strings.Count(msg, "\n  ") > maxListed+1 {
				t.Errorf("more than %d problems listed: %q", maxListed, msg)
			}
			for i, nt := range nn.StateDict(m) {
				if !slices.Equal(nt.Tensor.Data(), before[i].Tensor.Data()) {
					t.Fatalf("a failed load changed %s", nt.Name)
				}
			}
		})
	}
}

func TestAllowMissing(t *testing.T) {
	src := newToy(12, 11)
	dir := saveEntries(t, without(entries(src), "ln_f.weight", "ln_f.bias", "wte.weight"))
	dst := newToy(12, 12)
	keep := slices.Clone(dst.LnF.Weight.Data())
	if err := LoadWeights(dst, dir, LoadOptions{AllowMissing: []string{"ln_f", "wte.weight"}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dst.LnF.Weight.Data(), keep) {
		t.Error("an allowed-missing tensor changed")
	}
	if !slices.Equal(dst.H[1].Attn.CAttn.Weight.Data(), src.H[1].Attn.CAttn.Weight.Data()) {
		t.Error("h.1.attn.c_attn.weight was not loaded")
	}
	// "ln" is not a module name covering "ln_f.weight".
	err := LoadWeights(dst, dir, LoadOptions{AllowMissing: []string{"ln", "wte.weight"}})
	if err == nil || !strings.Contains(err.Error(), "missing from the checkpoint: ln_f.weight") {
		t.Errorf("got %v, want ln_f.weight missing", err)
	}
}

func TestNoWeights(t *testing.T) {
	dir := t.TempDir()
	err := LoadWeights(newToy(12, 1), dir, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "has neither model.safetensors nor model.safetensors.index.json") {
		t.Errorf("empty directory: got %v", err)
	}
	os.WriteFile(filepath.Join(dir, "pytorch_model.bin"), []byte("x"), 0o644)
	err = LoadWeights(newToy(12, 1), dir, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "only pytorch_model.bin") {
		t.Errorf("pickle checkpoint: got %v", err)
	}
	os.WriteFile(filepath.Join(dir, WeightsFile), []byte("not a safetensors file"), 0o644)
	err = LoadWeights(newToy(12, 1), dir, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, WeightsFile)) {
		t.Errorf("corrupt file: got %v, want an error naming it", err)
	}
}

// testConfig mimics a model package's Config.
type testConfig struct {
	VocabSize int     `json:"vocab_size"`
	NEmbd     int     `json:"n_embd"`
	NHead     int     `json:"n_head"`
	Eps       float64 `json:"layer_norm_epsilon"`
	Act       string  `json:"activation_function"`
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, ConfigFile, `{"vocab_size": 50257, "n_embd": 768, "n_head": 12,
		"architectures": ["GPT2LMHeadModel"], "task_specific_params": {"text-generation": {"max_length": 50}},
		"layer_norm_epsilon": 1e-05}`)
	cfg := testConfig{Act: "gelu_new"} // a default the file does not override
	if err := ReadConfig(dir, &cfg, "vocab_size", "n_embd", "n_head"); err != nil {
		t.Fatal(err)
	}
	want := testConfig{VocabSize: 50257, NEmbd: 768, NHead: 12, Eps: 1e-5, Act: "gelu_new"}
	if cfg != want {
		t.Errorf("got %+v, want %+v (unknown keys must be ignored, defaults kept)", cfg, want)
	}
	// The same file named directly.
	var cfg2 testConfig
	if err := ReadConfig(filepath.Join(dir, ConfigFile), &cfg2); err != nil || cfg2.NEmbd != 768 {
		t.Errorf("reading the .json path: %+v, %v", cfg2, err)
	}

	p := writeFile(t, dir, "partial.json", `{"n_embd": 768}`)
	err := ReadConfig(p, &cfg2, "vocab_size", "n_embd", "n_head")
	if err == nil || err.Error() != "hf: config "+p+`: missing required keys "vocab_size", "n_head"` {
		t.Errorf("missing keys: got %v", err)
	}
	err = ReadConfig(p, &cfg2, "n_head")
	if err == nil || err.Error() != "hf: config "+p+`: missing required key "n_head"` {
		t.Errorf("missing key: got %v", err)
	}

	p = writeFile(t, dir, "syntax.json", `{"n_embd": 768,, }`)
	if err := ReadConfig(p, &cfg2); err == nil || !strings.Contains(err.Error(), "invalid JSON at byte offset 16") {
		t.Errorf("syntax error: got %v", err)
	}
	p = writeFile(t, dir, "type.json", `{"n_embd": "wide"}`)
	if err := ReadConfig(p, &cfg2); err == nil || !strings.Contains(err.Error(), `key "n_embd" at byte offset 17 holds a JSON string, want int`) {
		t.Errorf("type error: got %v", err)
	}
	if err := ReadConfig(filepath.Join(dir, "absent"), &cfg2); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("absent directory: got %v", err)
	}
}

func TestWriteConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "ckpt")
	in := testConfig{VocabSize: 7, NEmbd: 8, NHead: 2, Eps: 1e-12, Act: "gelu"}
	if err := WriteConfig(dir, in); err != nil {
		t.Fatal(err)
	}
	var out testConfig
	if err := ReadConfig(dir, &out, "vocab_size", "n_embd", "n_head", "layer_norm_epsilon", "activation_function"); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip gave %+v, want %+v", out, in)
	}
}

func TestActivationName(t *testing.T) {
	for in, want := range map[string]string{"gelu": "gelu", "gelu_new": "gelu_new", "gelu_pytorch_tanh": "gelu_new", "gelu_fast": "gelu_new", "swish": "silu", "quick_gelu": "quick_gelu", "linear": "identity"} {
		if got, err := ActivationName(in); got != want || err != nil {
			t.Errorf("ActivationName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ActivationName("mish"); err == nil || !strings.Contains(err.Error(), `"mish"`) {
		t.Errorf("mish: got %v", err)
	}
}

func TestPadIDs(t *testing.T) {
	x, lengths, err := PadIDs([][]int{{5, 6, 7}, {8}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.Shape(), []int{2, 3}) || !slices.Equal(x.Data(), []float32{5, 6, 7, 8, 0, 0}) || !slices.Equal(lengths, []int{3, 1}) {
		t.Errorf("got %v %v %v", x.Shape(), x.Data(), lengths)
	}
	if _, _, err := PadIDs([][]int{{1}, {}}, 0); err == nil || !strings.Contains(err.Error(), "sequence 1 is empty") {
		t.Errorf("empty sequence: got %v", err)
	}
}
