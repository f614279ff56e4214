package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// gpt2Variant rewrites GPT-2's saved tokenizer.json into one that exercises
// the other components: a normaliser sequence (strip left, NFKC, lowercase),
// a prefix space, merges written as pairs, an added token that takes the
// space on its left, <|endoftext|> around each text through a template inside
// a post-processor sequence, and a decoder sequence.
func gpt2Variant(t *testing.T) string {
	t.Helper()
	raw, err := gpt2(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	f["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{
		map[string]any{"type": "Strip", "strip_left": true, "strip_right": false},
		map[string]any{"type": "NFKC"},
		map[string]any{"type": "Lowercase"},
	}}
	f["pre_tokenizer"] = map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}
	eot := map[string]any{"id": "<|endoftext|>", "ids": []int{50256}, "tokens": []string{"<|endoftext|>"}}
	sp := func(typ int) any {
		return map[string]any{"SpecialToken": map[string]any{"id": "<|endoftext|>", "type_id": typ}}
	}
	sq := func(id string, typ int) any {
		return map[string]any{"Sequence": map[string]any{"id": id, "type_id": typ}}
	}
	f["post_processor"] = map[string]any{"type": "Sequence", "processors": []any{
		map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
		map[string]any{"type": "TemplateProcessing",
			"single":         []any{sp(0), sq("A", 0), sp(0)},
			"pair":           []any{sp(0), sq("A", 0), sp(0), sq("B", 1), sp(1)},
			"special_tokens": map[string]any{"<|endoftext|>": eot}},
	}}
	f["decoder"] = map[string]any{"type": "Sequence", "decoders": []any{
		map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
	}}
	f["added_tokens"] = append(f["added_tokens"].([]any), map[string]any{
		"id": 50257, "content": "<|mask|>", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true})
	model := f["model"].(map[string]any)
	var pairs [][2]string
	for _, m := range model["merges"].([]any) {
		a, b, _ := strings.Cut(m.(string), " ")
		pairs = append(pairs, [2]string{a, b})
	}
	model["merges"] = pairs
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestGPT2VariantMatchesReference loads the variant with graft and with
// @huggingface/tokenizers and compares encodings (single and pairs) and
// decodings on the corpus.
func TestGPT2VariantMatchesReference(t *testing.T) {
	file := gpt2Variant(t)
	tk, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	node := requireNode(t)
	hf := requirePackage(t, pkgHF)
	c := loadCorpus(t)
	texts := append(append([]string(nil), c.Texts...), c.Special["gpt2"]...)
	texts = append(texts, "Fill <|mask|> in, <|mask|>!", "ＡＢＣ ﬁne ½ …")
	res := runReference(t, node, refRequest{HF: hf, Tokenizer: file, Texts: texts, Pairs: c.Pairs})
	if len(res.HF) != len(texts) || len(res.HFPairs) != len(c.Pairs) {
		t.Fatalf("reference returned %d and %d results", len(res.HF), len(res.HFPairs))
	}
	check := func(what string, e *Encoding, ref refEncoding) {
		t.Helper()
		compareWithHF(t, tk, what, e, ref)
	}
	for i, text := range texts {
		check(text, tk.Encode(text), res.HF[i])
	}
	for i, p := range c.Pairs {
		check(p[0]+" | "+p[1], tk.EncodePair(p[0], p[1]), res.HFPairs[i])
	}
	// The normaliser's offsets still point into the original text.
	text := "  ＡＢＣ <|mask|>"
	e := tk.Encode(text)
	var spans []string
	for _, off := range e.Offsets {
		spans = append(spans, text[off[0]:off[1]])
	}
	if want := []string{"", "ＡＢ", "Ｃ", " <|mask|>", ""}; !reflect.DeepEqual(spans, want) {
		t.Errorf("%q: tokens %q cover %q, want %q", text, e.Tokens, spans, want)
	}
	// Saving the variant and loading it again changes nothing.
	j1, _ := tk.MarshalJSON()
	back, err := Parse(j1, "saved variant")
	if err != nil {
		t.Fatal(err)
	}
	if j2, _ := back.MarshalJSON(); string(j1) != string(j2) {
		t.Errorf("the variant does not survive Save and Load")
	}
	if !strings.Contains(string(j1), `"merges": [
      "Ġ t",`) {
		t.Errorf("merges are not saved as \"a b\" strings, the form every version reads")
	}
}

func TestOptionsInFile(t *testing.T) {
	tk := tinyBert(t, true)
	if err := tk.SetTruncation(&Truncation{MaxLength: 7, Strategy: "OnlyFirst", Direction: "Left", Stride: 2}); err != nil {
		t.Fatal(err)
	}
	if err := tk.SetPadding(&Padding{Length: 9, MultipleOf: 4, PadID: 0, PadTypeID: 1, PadToken: "[PAD]"}); err != nil {
		t.Fatal(err)
	}
	data, err := tk.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"max_length": 7`, `"strategy": "OnlyFirst"`, `"direction": "Left"`, `"stride": 2`,
		`"Fixed": 9`, `"pad_to_multiple_of": 4`, `"pad_type_id": 1`, `"pad_token": "[PAD]"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("saved file lacks %s", want)
		}
	}
	back, err := Parse(data, "options")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Truncation(), tk.Truncation()) || !reflect.DeepEqual(back.Padding(), tk.Padding()) {
		t.Errorf("loaded %+v %+v, saved %+v %+v", back.Truncation(), back.Padding(), tk.Truncation(), tk.Padding())
	}
	if e := back.Encode("hello world"); e.Len() != 12 || e.TypeIDs[11] != 1 {
		t.Errorf("fixed 9 rounded to 12: %v types %v", e.IDs, e.TypeIDs)
	}
	// BatchLongest in the file.
	_ = tk.SetPadding(&Padding{PadToken: "[PAD]"})
	data, _ = tk.MarshalJSON()
	if !strings.Contains(string(data), `"strategy": "BatchLongest"`) {
		t.Errorf("BatchLongest not written")
	}
	for _, bad := range []string{`"Longest"`, `{"Fixd": 3}`} {
		broken := strings.Replace(string(data), `"strategy": "BatchLongest"`, `"strategy": `+bad, 1)
		if _, err := Parse([]byte(broken), "bad"); err == nil || !strings.Contains(err.Error(), "padding") {
			t.Errorf("padding strategy %s: %v", bad, err)
		}
	}
	if tk.Truncation() == tk.Truncation() || tk.Padding() == tk.Padding() {
		t.Errorf("settings are returned by pointer to the tokenizer's own copy")
	}
	_ = tk.SetTruncation(nil)
	_ = tk.SetPadding(nil)
	if tk.Truncation() != nil || tk.Padding() != nil {
		t.Errorf("settings not cleared")
	}
}

func TestWhitespacePreTokenizers(t *testing.T) {
	text := "héllo, wörld!! x_1"
	for typ, want := range map[string][]string{
		"Whitespace":      {"héllo", ",", "wörld", "!!", "x_1"},
		"WhitespaceSplit": {"héllo,", "wörld!!", "x_1"},
	} {
		p := &whitespacePreTokenizer{Type: typ}
		var got []string
		for _, piece := range p.split([]ntext{newNText(text, 0)}) {
			got = append(got, piece.String())
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q, want %q", typ, got, want)
		}
	}
}
