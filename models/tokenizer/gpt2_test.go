package tokenizer

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestGPT2KnownEncodings checks encodings of GPT-2's vocabulary that are
// widely quoted, and the offsets of each token.
func TestGPT2KnownEncodings(t *testing.T) {
	tk := gpt2(t)
	for _, tc := range []struct {
		text string
		ids  []int
	}{
		{"Hello world", []int{15496, 995}},
		{" Hello", []int{18435}},
		{"The", []int{464}},
		{" the", []int{262}},
		{"!", []int{0}},
		{",", []int{11}},
		{".", []int{13}},
		{"\n", []int{198}},
		{"\n\n", []int{628}},
		{" ", []int{220}},
		{"<|endoftext|>", []int{50256}},
	} {
		e := tk.Encode(tc.text)
		if !reflect.DeepEqual(e.IDs, tc.ids) {
			t.Errorf("Encode(%q) = %v, want %v", tc.text, e.IDs, tc.ids)
		}
		if got := tk.Decode(e.IDs, false); got != tc.text {
			t.Errorf("Decode(Encode(%q)) = %q", tc.text, got)
		}
	}
	if n := tk.VocabSize(); n != 50257 {
		t.Errorf("VocabSize = %d, want 50257", n)
	}
	e := tk.Encode("Hello world")
	if want := []string{"Hello", "Ġworld"}; !reflect.DeepEqual(e.Tokens, want) {
		t.Errorf("tokens %q, want %q", e.Tokens, want)
	}
	if want := [][2]int{{0, 5}, {5, 11}}; !reflect.DeepEqual(e.Offsets, want) {
		t.Errorf("offsets %v, want %v", e.Offsets, want)
	}
	// A character cut across tokens: each token gets its own bytes.
	e = tk.Encode(" 😀")
	if want := [][2]int{{0, 4}, {4, 5}}; !reflect.DeepEqual(e.IDs, []int{30325, 222}) || !reflect.DeepEqual(e.Offsets, want) {
		t.Errorf(`Encode(" 😀") = %v %v, want [30325 222] %v`, e.IDs, e.Offsets, want)
	}
	// Decoding part of a character gives U+FFFD, as the reference does.
	if got := tk.Decode([]int{30325}, false); got != " \uFFFD" {
		t.Errorf("Decode([30325]) = %q, want %q", got, " \uFFFD")
	}
	if got := tk.Decode([]int{15496, 50256, 995}, true); got != "Hello world" {
		t.Errorf("Decode skipping special = %q", got)
	}
	if got := tk.Decode([]int{15496, 50256, 995}, false); got != "Hello<|endoftext|> world" {
		t.Errorf("Decode keeping special = %q", got)
	}
	// Bytes that are not UTF-8 are encoded as the bytes they are (0xFF is
	// 'ÿ' in GPT-2's byte table) and decode to U+FFFD.
	e = tk.Encode("a\xffb")
	if want := []string{"a", "ÿ", "b"}; !reflect.DeepEqual(e.Tokens, want) || tk.Decode(e.IDs, false) != "a\uFFFDb" {
		t.Errorf(`Encode("a\xffb") = %q, decoded %q; want %q`, e.Tokens, tk.Decode(e.IDs, false), want)
	}
	if err := tk.SetAddPrefixSpace(true); err != nil {
		t.Fatal(err)
	}
	if e := tk.Encode("Hello"); !reflect.DeepEqual(e.IDs, []int{18435}) || e.Offsets[0] != [2]int{0, 5} {
		t.Errorf("with a prefix space, Encode(Hello) = %v %v, want [18435] [[0 5]]", e.IDs, e.Offsets)
	}
}

// TestGPT2OffsetsCoverText checks on the corpus that the offsets of GPT-2's
// tokens tile the text, and that decoding gives the text back.
func TestGPT2OffsetsCoverText(t *testing.T) {
	tk := gpt2(t)
	for _, text := range loadCorpus(t).Texts {
		e := tk.Encode(text)
		pos := 0
		for i, off := range e.Offsets {
			if off[0] != pos || off[1] <= off[0] {
				t.Errorf("%q: token %d %q has offsets %v, want to start at %d", text, i, e.Tokens[i], off, pos)
				break
			}
			pos = off[1]
		}
		if pos != len(text) {
			t.Errorf("%q: offsets end at %d, text has %d bytes", text, pos, len(text))
		}
		if got := tk.Decode(e.IDs, false); got != text {
			t.Errorf("Decode(Encode(%q)) = %q", text, got)
		}
	}
}

// TestGPT2MatchesReference encodes the corpus with graft and with two
// JavaScript tokenizers: gpt-3-encoder (a port of OpenAI's encoder.py) and
// @huggingface/tokenizers loading the tokenizer.json graft saved.
func TestGPT2MatchesReference(t *testing.T) {
	tk := gpt2(t)
	node := requireNode(t)
	gpt3, hf := requirePackage(t, pkgGPT3), requirePackage(t, pkgHF)
	c := loadCorpus(t)
	file := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tk.Save(file); err != nil {
		t.Fatal(err)
	}
	texts := append(append([]string(nil), c.Texts...), c.Special["gpt2"]...)
	res := runReference(t, node, refRequest{GPT3: gpt3, HF: hf, Tokenizer: file, Texts: texts})
	if len(res.GPT3) != len(texts) || len(res.HF) != len(texts) {
		t.Fatalf("reference returned %d and %d results for %d texts", len(res.GPT3), len(res.HF), len(texts))
	}
	tokens := 0
	for i, text := range texts {
		e := tk.Encode(text)
		tokens += e.Len()
		special := i >= len(c.Texts) // gpt-3-encoder knows no special tokens
		if !special && !reflect.DeepEqual(nonNil(e.IDs), nonNil(res.GPT3[i].IDs)) {
			t.Errorf("%q:\n graft         %v\n gpt-3-encoder %v", text, e.IDs, res.GPT3[i].IDs)
		}
		if !reflect.DeepEqual(nonNil(e.IDs), nonNil(res.HF[i].IDs)) {
			t.Errorf("%q:\n graft                   %v\n @huggingface/tokenizers %v", text, e.IDs, res.HF[i].IDs)
		}
		if !reflect.DeepEqual(nonNilS(e.Tokens), nonNilS(res.HF[i].Tokens)) {
			t.Errorf("%q: tokens\n graft %q\n hf    %q", text, e.Tokens, res.HF[i].Tokens)
		}
		if !special && res.GPT3[i].Decoded != text {
			t.Errorf("gpt-3-encoder decodes %q as %q", text, res.GPT3[i].Decoded)
		}
		if got := tk.Decode(e.IDs, false); got != res.HF[i].Decoded || got != text {
			t.Errorf("decode of %q: graft %q, hf %q", text, got, res.HF[i].Decoded)
		}
		if got := tk.Decode(e.IDs, true); got != res.HF[i].DecodedSkip {
			t.Errorf("decode skipping special tokens of %q: graft %q, hf %q", text, got, res.HF[i].DecodedSkip)
		}
	}
	t.Logf("%d texts, %d tokens: graft, gpt-3-encoder and @huggingface/tokenizers agree", len(texts), tokens)
}

func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

func nonNilS(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestGPT2SaveLoadRoundTrip saves GPT-2's tokenizer, loads it back (from the
// directory) and checks the encodings and the file are the same.
func TestGPT2SaveLoadRoundTrip(t *testing.T) {
	tk := gpt2(t)
	dir := t.TempDir()
	if err := tk.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range loadCorpus(t).Texts {
		a, b := tk.Encode(text), back.Encode(text)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%q: before saving %v, after loading %v", text, a.IDs, b.IDs)
		}
	}
	j1, _ := tk.MarshalJSON()
	j2, _ := back.MarshalJSON()
	if string(j1) != string(j2) {
		t.Errorf("the loaded tokenizer saves a different file")
	}
	if !strings.Contains(string(j1), `"merges": [`) || !strings.Contains(string(j1), `"Ġ t",`) {
		t.Errorf("merges not saved as \"a b\" strings")
	}
}

// TestGPT2Batch encodes the corpus as one padded batch (in parallel, sharing
// the model's cache) and checks each row against Encode.
func TestGPT2Batch(t *testing.T) {
	tk := gpt2(t)
	texts := loadCorpus(t).Texts
	b := tk.EncodeBatch(texts, true)
	width := len(b.IDs[0])
	for i, text := range texts {
		one := tk.Encode(text)
		row := b.IDs[i]
		if len(row) != width {
			t.Fatalf("row %d has %d ids, row 0 has %d", i, len(row), width)
		}
		if !reflect.DeepEqual(row[:one.Len()], nonNil(one.IDs)) {
			t.Errorf("row %d differs from Encode(%q)", i, text)
		}
		for k := one.Len(); k < width; k++ {
			if row[k] != 50256 || b.AttentionMask[i][k] != 0 {
				t.Errorf("row %d position %d: id %d mask %d, want GPT-2's padding 50256 with mask 0", i, k, row[k], b.AttentionMask[i][k])
				break
			}
		}
	}
}
