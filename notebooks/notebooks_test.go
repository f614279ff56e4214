package notebooks

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graftml/graft/internal/kerneltest"
	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/kernel/golang"
	"github.com/graftml/graft/notebook"
	"github.com/graftml/graft/viz"
)

func TestMain(m *testing.M) { kerneltest.Main(m) }

// cellTimeout bounds one cell; the slowest tutorial cell trains for well under
// a minute even on a loaded two-core machine.
const cellTimeout = 5 * time.Minute

// checks are the figures each tutorial promises, tested on the text its cells
// print and display. Every notebook in this directory must have an entry.
var checks = map[string]func(t *testing.T, text string){
	"engine-basics.ipynb": func(t *testing.T, text string) {
		m := regexp.MustCompile(`training accuracy ([0-9.]+) after (\d+) steps`).FindStringSubmatch(text)
		if m == nil {
			t.Fatal("the notebook did not report its training accuracy")
		}
		if acc, _ := strconv.ParseFloat(m[1], 64); acc < 0.97 {
			t.Errorf("two-moons training accuracy %v, want ≥ 0.97", acc)
		}
		if steps, _ := strconv.Atoi(m[2]); steps != 30*13 {
			t.Errorf("%d steps, want 30 epochs × 13 batches", steps)
		}
		wantAll(t, text, "softsign gradient check: <nil>", "[-1, 2, -3]", "step 300/390")
		// A step's two 400×256 activations (Linear+ReLU runs as one op)
		// are 800 KB of new memory without Release; with it the step
		// reuses the last one's.
		m = regexp.MustCompile(`KiB allocated per step: (\d+) without Release, (\d+) with`).FindStringSubmatch(text)
		if m == nil {
			t.Fatal("the notebook did not report the memory its loops allocate")
		}
		kept, released := atoi(t, m[1]), atoi(t, m[2])
		if kept < 800 || released*5 > kept {
			t.Errorf("KiB per step: %d without Release, %d with; want ≥ 800 and at most a fifth of it", kept, released)
		}
	},
	"interactive-figures.ipynb": func(t *testing.T, text string) {
		// Every figure carries the extension's JSON with all its data: the
		// dashboard's two panels (loss, target accuracy), 800 embedded
		// points, 100,000 scattered, a 10,000-step curve, 30×30 cells.
		wantAll(t, text, "[interactive dashboard, 2]", "[interactive scatter, 800]", "[interactive scatter, 100000]",
			"[interactive lines, 10000]", "[interactive heatmap, 900]")
		m := regexp.MustCompile(`interactive data: (\d+) KiB for 100000 points`).FindStringSubmatch(text)
		if m == nil || atoi(t, m[1]) > 2600 {
			t.Errorf("the 100,000-point scatter's JSON: %v, want at most 2,600 KiB (float32 precision, no identity index)", m)
		}
		m = regexp.MustCompile(`first 100 steps ([0-9.e-]+), of the last 100 ([0-9.e-]+); the live figure was drawn (\d+) times`).FindStringSubmatch(text)
		if m == nil {
			t.Fatal("the live loop did not report its losses")
		}
		first, _ := strconv.ParseFloat(m[1], 64)
		last, _ := strconv.ParseFloat(m[2], 64)
		if last > first/10 || atoi(t, m[3]) < 2 {
			t.Errorf("live loop: loss %v → %v, drawn %s times; want a tenfold drop and at least two frames", first, last, m[3])
		}
	},
	"visualisation.ipynb": func(t *testing.T, text string) {
		// Every figure type: scatter, live history, grid of history
		// options, decision regions, PCA and t-SNE, confusion and
		// transport heatmaps, the tracker's live figure, ΔW, parameter
		// bars, histograms, compared runs.
		if n := strings.Count(text, "[png "); n < 11 {
			t.Errorf("%d PNG figures shown, want at least 11", n)
		}
		if n := strings.Count(text, "[svg]"); n < 11 {
			t.Errorf("%d SVG figures shown, want at least 11", n)
		}
		m := regexp.MustCompile(`source accuracy ([0-9.]+), target accuracy ([0-9.]+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatal("the notebook did not report the source-only accuracies")
		}
		if src, _ := strconv.ParseFloat(m[1], 64); src < 0.97 {
			t.Errorf("source accuracy %v, want ≥ 0.97", src)
		}
		wantAll(t, text,
			`<scatter of 800 points "source and target"`,
			"training  390/390  100%", // the live progress bar's final state
			"<training history of 2 metrics",
			`<decision regions of 2 classes`,
			"PCA of 800 points", "t-SNE of 800 points", `"transport plan (ε = 0.1)"`,
			"entropy minimisation  150/150  100%",
			`<heatmap of 32x32 cells "ΔW of the hidden layer"`,
			"trainable params: 1,056 || all params: 1,218",
			"Adam 1e-2", "SGD 0.1", "± ",
			"Monte Carlo π  2000/2000  100%",
		)
	},
	"dann.ipynb": func(t *testing.T, text string) {
		// The pair, source-only regions, both regions, the result's curves,
		// the embeddings: five figures at least.
		if n := strings.Count(text, "[png "); n < 5 {
			t.Errorf("%d PNG figures shown, want at least 5", n)
		}
		// The claims rest on five seeds: one seed of an adversarial game
		// moves with the last bits of the arithmetic (GEMM backend, exp).
		five := func(what string) (so, dann float64) {
			t.Helper()
			m := regexp.MustCompile(`five seeds, ` + what + `: source-only ([0-9.-]+) ± [0-9.]+, DANN ([0-9.-]+) ± [0-9.]+`).FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("the notebook did not report the five-seed %s", what)
			}
			so, _ = strconv.ParseFloat(m[1], 64)
			dann, _ = strconv.ParseFloat(m[2], 64)
			return so, dann
		}
		if so, dann := five("target accuracy"); so > 0.85 || dann < so+0.12 {
			t.Errorf("two moons over five seeds: source-only %v, DANN %v; want DANN at least 12 points above a source-only model below 0.85", so, dann)
		}
		if so, dann := five("proxy A-distance"); dann > so-0.1 {
			t.Errorf("proxy A-distance over five seeds: source-only %v, DANN %v; want DANN's features at least 0.1 closer", so, dann)
		}
		wantAll(t, text, "two moons target accuracy: source-only", "proxy A-distance: source-only")
		d := regexp.MustCompile(`MNIST→UCI target accuracy: source-only ([0-9.]+), DANN ([0-9.]+)`).FindStringSubmatch(text)
		if d == nil {
			t.Fatal("the notebook did not report the digits accuracies")
		}
		if acc, _ := strconv.ParseFloat(d[1], 64); acc < 0.6 || acc > 0.9 {
			t.Errorf("MNIST→UCI source-only target accuracy %v, want in [0.6, 0.9]", acc)
		}
		wantAll(t, text, `decision regions of 2 classes on a 150x150 grid "DANN"`,
			`PCA scatter of 300 points "features, DANN"`, "DANN    two moons, target rotated 35°   2000")
	},
	"data-and-models.ipynb": func(t *testing.T, text string) {
		// Every domain pair drawn (moons, blobs, label shift, MNIST→UCI,
		// plain pooling, rotation, MNIST-M, resolution): eight figures.
		if n := strings.Count(text, "[png "); n < 8 {
			t.Errorf("%d PNG figures shown, want at least 8", n)
		}
		m := regexp.MustCompile(`source accuracy ([0-9.]+), target accuracy ([0-9.]+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatal("the notebook did not report the source-only accuracies")
		}
		src, _ := strconv.ParseFloat(m[1], 64)
		tgt, _ := strconv.ParseFloat(m[2], 64)
		if src < 0.9 || tgt > src-0.1 {
			t.Errorf("MNIST→UCI source-only: source %v, target %v; want source ≥ 0.9 and a gap of at least 10 points", src, tgt)
		}
		wantAll(t, text,
			"source class counts [100 100 100] target class counts [210 60 30]",
			"restored model: target accuracy "+m[2],
			"does not fit the model (3 shape mismatches)",
			"0.weight: checkpoint (64,64), model expects (32,64)",
			"GPT-2 small parameters: 124,439,808", "BERT-base parameters: 109,482,240",
			"h.0.attn.c_attn.weight", "config.json", "model.safetensors",
			"largest logit difference after the round trip: 0\n", "auto.Load gave a *gpt2.Model",
			"logits per image [2 2]", "vision_model.pre_layrnorm.weight",
			"[2 5 6 7 11 8 9 1 1 10 12 3]", `"##ation"`, // WordPiece: ids, and the encoding's table
			"read back [1797 1 8 8] identical: true", "broken.npy: truncated at byte 8",
		)
	},
	"lora.ipynb": func(t *testing.T, text string) {
		frozen := regexp.MustCompile(`UCI accuracy ([0-9.]+); 300 UCI digits`).FindStringSubmatch(text)
		if frozen == nil {
			t.Fatal("the notebook did not report the pre-trained model's UCI accuracy")
		}
		base, _ := strconv.ParseFloat(frozen[1], 64)
		for _, method := range []string{"LoRA r=4", "DoRA r=4", "LoRA\\+ r=4, ratio 16", "full fine-tuning"} {
			m := regexp.MustCompile(`(?m)^` + method + `\s+([0-9.]+)`).FindStringSubmatch(text)
			if m == nil {
				t.Errorf("the results table has no row for %s", method)
				continue
			}
			if acc, _ := strconv.ParseFloat(m[1], 64); acc < base+0.05 {
				t.Errorf("%s reached UCI accuracy %v, want at least 5 points above the frozen model's %v", method, acc, base)
			}
		}
		if n := strings.Count(text, "[png "); n < 1 {
			t.Errorf("%d PNG figures shown, want the comparison of runs", n)
		}
		merged := regexp.MustCompile(`largest output change (\S+)`).FindStringSubmatch(text)
		if merged == nil {
			t.Error("the notebook did not report the change merging made")
		} else if d, err := strconv.ParseFloat(merged[1], 64); err != nil || d > 1e-4 {
			t.Errorf("merging DoRA changed the outputs by %s, want at most 1e-4", merged[1])
		}
		reload := regexp.MustCompile(`reloaded adapter: UCI accuracy ([0-9.]+) \(trained: ([0-9.]+)\)`).FindStringSubmatch(text)
		if reload == nil || reload[1] != reload[2] {
			t.Errorf("reloaded adapter's accuracy differs from the trained one: %v", reload)
		}
		wantAll(t, text,
			"trainable params: 5,898 || all params: 90,900 || trainable%: 6.4884",
			"0.lora_magnitude_vector.default.weight", "4.modules_to_save.default.weight",
			"merged: [default]", "adapter_model.safetensors", `"peft_type": "LORA"`, `"use_dora": false`,
		)
	},
	"adapters-and-fusion.ipynb": func(t *testing.T, text string) {
		// rows: adapter name, then accuracy on rotated, noisy and both.
		acc := func(row string) []float64 {
			m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(row) + `\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)`).FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("the results table has no row %q", row)
			}
			var v []float64
			for _, s := range m[1:] {
				f, _ := strconv.ParseFloat(s, 64)
				v = append(v, f)
			}
			return v
		}
		base, rot, noisy, fusion := acc("none (base model)"), acc("rotated"), acc("noisy"), acc("fusion of rotated and noisy")
		if rot[0] < base[0]+0.3 || noisy[1] < base[1]+0.3 {
			t.Errorf("task adapters: rotated %v on rotated digits, noisy %v on noisy ones; want each 30 points above the base model's %v, %v", rot[0], noisy[1], base[0], base[1])
		}
		if fusion[2] < max(rot[2], noisy[2])+0.1 {
			t.Errorf("fusion reached %v on digits with both shifts, want 10 points above the best single adapter (%v, %v)", fusion[2], rot[2], noisy[2])
		}
		wantAll(t, text, "0.adapter_down.rotated.weight", "fusion/adapter_model.safetensors", "rotated/adapter_config.json", "noisy/adapter_config.json")
	},
	"optimal-transport.ipynb": func(t *testing.T, text string) {
		num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		eps := regexp.MustCompile(`ε = 0\.001 +cost ([0-9.]+) \(exact ([0-9.]+)\) +[0-9]+ iterations +converged true`).FindStringSubmatch(text)
		if eps == nil || num(eps[1]) < num(eps[2]) || num(eps[1]) > num(eps[2])*1.01 {
			t.Errorf("Sinkhorn at ε = 1e-3 did not converge to within 1%% of the exact cost: %v", eps)
		}
		out := regexp.MustCompile(`balanced Sinkhorn +moved 1\.000 +to outliers ([0-9.]+)\n.*τ = 1 +moved [0-9.]+ +to outliers ([0-9.]+)\n.*τ = 0\.1 +moved [0-9.]+ +to outliers ([0-9.]+)`).FindStringSubmatch(text)
		if out == nil || !(num(out[1]) > 0.1 && num(out[2]) < num(out[1]) && num(out[3]) < 0.01) {
			t.Errorf("outlier mass, balanced > unbalanced τ=1 > τ=0.1 ≈ 0: %v", out)
		}
		acc := regexp.MustCompile(`trained on the source ([0-9.]+), on the transported source ([0-9.]+)`).FindStringSubmatch(text)
		if acc == nil || num(acc[2]) < num(acc[1])+0.08 {
			t.Errorf("OT domain adaptation on rotated moons: %v, want the transported source 0.08 above", acc)
		}
		coot := regexp.MustCompile(`pixels mapped to their mirror image: ([0-9]+)/64; the other ([0-9]+) are blank`).FindStringSubmatch(text)
		if coot == nil || num(coot[1])+num(coot[2]) != 64 {
			t.Errorf("COOT's feature plan: %v, want every non-blank pixel mapped to its mirror", coot)
		}
		wantAll(t, text, "images matched to their mirrored copy: 150/150", "emd (network simplex) 30×40",
			"decision regions of 2 classes", "ot.COOTResult value 0, objective 0", "feature plan 64×64", "[png ")
	},
	"test-time-adaptation.ipynb": func(t *testing.T, text string) {
		num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		m := regexp.MustCompile(`source ([0-9.]+)%, BN ([0-9.]+)%, AdaBN \(episodic\) ([0-9.]+)%, Tent \(continual\) ([0-9.]+)%, SHOT \(continual\) ([0-9.]+)%, CoTTA \(continual\) ([0-9.]+)%`).FindStringSubmatch(text)
		if m == nil {
			t.Fatal("the notebook did not report the mean accuracies on the corrupted stream")
		}
		src := num(m[1])
		for i, name := range []string{"BN", "AdaBN", "Tent", "SHOT", "CoTTA"} {
			if v := num(m[i+2]); v < src+15 {
				t.Errorf("%s mean accuracy %v%%, want ≥ source %v%% + 15", name, v, src)
			}
		}
		if num(m[4]) < num(m[2]) {
			t.Errorf("Tent %v%% below BN %v%%", m[4], m[2])
		}
		o := regexp.MustCompile(`class-ordered stream: source ([0-9.]+)%, BN ([0-9.]+)%, LAME ([0-9.]+)%`).FindStringSubmatch(text)
		if o == nil {
			t.Fatal("the notebook did not report the class-ordered stream")
		}
		if num(o[3]) < num(o[1])+2 || num(o[2]) > num(o[1])-30 {
			t.Errorf("class-ordered stream: source %s%%, BN %s%%, LAME %s%%; want LAME ≥ source + 2 and BN ≤ source − 30", o[1], o[2], o[3])
		}
		c := regexp.MustCompile(`clean accuracy ([0-9.]+) \(before ([0-9.]+)\)`).FindStringSubmatch(text)
		if c == nil || c[1] != c[2] {
			t.Errorf("the source model changed: %v", c)
		}
		wantAll(t, text, "UCI digits, corrupted — accuracy %", "UCI digits in class order — accuracy %",
			"α-BN (α=0.5)", "episodic", "continual", "LAME", "data:image/png;base64,",
			`<60 images of 1x8x8 in 6 rows "the corruptions of the stream"`, "[png ")
	},
	"merging.ipynb": func(t *testing.T, text string) {
		// rows of the comparison: model, accuracy on task A and task B.
		acc := func(row string) [2]float64 {
			m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(row) + `\s+([0-9.]+)\s+([0-9.]+)`).FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("the comparison has no row %q", row)
			}
			a, _ := strconv.ParseFloat(m[1], 64)
			b, _ := strconv.ParseFloat(m[2], 64)
			return [2]float64{a, b}
		}
		base, ftA, ftB := acc("base"), acc("fine-tuned on task A"), acc("fine-tuned on task B")
		gain := [2]float64{ftA[0] - base[0], ftB[1] - base[1]}
		if gain[0] < 0.3 || gain[1] < 0.3 {
			t.Errorf("fine-tunes gain %v over the base, want 0.3 each", gain)
		}
		for _, row := range []string{"Fisher", "SLERP t=0.5"} {
			if m := acc(row); m[0]-base[0] < 0.75*gain[0] || m[1]-base[1] < 0.75*gain[1] {
				t.Errorf("%s reaches %v, want 75%% of each fine-tune's gain over the base %v", row, m, base)
			}
		}
		// LoRA adapters: the exact sum keeps both tasks; LoraHub over the
		// exact sum finds weights that keep both from 32 examples.
		for _, row := range []string{"exact sum", "TIES on ΔW"} {
			if m := acc(row); m[0] < 0.85 || m[1] < 0.85 {
				t.Errorf("LoRA combination %q reaches %v, want 0.85 on both tasks", row, m)
			}
		}
		// PEFT's linear mode carries cross terms in ΔW; what they do to
		// accuracy varies with the GEMM backend's last bits, so only ΔW is
		// checked.
		layers := regexp.MustCompile(`layer (\d+): PEFT linear ([0-9.]+), SVD rank 8 ([0-9.]+)`).FindAllStringSubmatch(text, -1)
		if len(layers) != 2 {
			t.Fatalf("the notebook reported ΔW distances for %d layers, want 2", len(layers))
		}
		for _, l := range layers {
			if lin, _ := strconv.ParseFloat(l[2], 64); lin < 0.1 {
				t.Errorf("layer %s: PEFT's linear ΔW is %v from the exact sum, want its cross terms to show (≥ 0.1)", l[1], lin)
			}
			if svd, _ := strconv.ParseFloat(l[3], 64); svd > 0.05 {
				t.Errorf("layer %s: the rank-8 SVD of the exact sum is %v from it, want ≤ 0.05", l[1], svd)
			}
		}
		m := regexp.MustCompile(`LoraHub \(exact sum\): task A ([0-9.]+), task B ([0-9.]+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatal("the notebook did not report LoraHub's accuracies")
		}
		if a, _ := strconv.ParseFloat(m[1], 64); a < 0.85 {
			t.Errorf("LoraHub over the exact sum: task A %v, want ≥ 0.85", a)
		}
		if b, _ := strconv.ParseFloat(m[2], 64); b < 0.85 {
			t.Errorf("LoraHub over the exact sum: task B %v, want ≥ 0.85", b)
		}
		wantAll(t, text, "TaskVector: 6 parameters, 69124 values", "cosine between the task vectors:",
			"2.weight", "gain kept, task A", "Model Stock",
			`heatmap of 8x256 cells "τ_A, first layer"`, `"task vector norm per parameter (cosine`,
			`"test accuracy per task"`, `"SLERP between the two fine-tunes"`, "[png ")
	},
	"prompt-learning.ipynb": func(t *testing.T, text string) {
		num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		acc := map[string][2]float64{} // "domain/method" → base, new
		for _, m := range regexp.MustCompile(`(same domain|shifted): (zero-shot|CoOp|CoCoOp|MaPLe)\b.*? base ([0-9.]+)% new ([0-9.]+)%`).FindAllStringSubmatch(text, -1) {
			acc[m[1]+"/"+m[2]] = [2]float64{num(m[3]), num(m[4])}
		}
		if len(acc) != 8 {
			t.Fatalf("the notebook reported %d of the 8 base-to-new results: %v", len(acc), acc)
		}
		for _, m := range []string{"CoOp", "CoCoOp", "MaPLe"} {
			// 2 points: zero-shot itself moves with the GEMM backend (see
			// peft/prompt's TestLearnersBeatZeroShot).
			if a, z := acc["shifted/"+m], acc["shifted/zero-shot"]; a[0] < z[0]+2 {
				t.Errorf("shifted domain: %s base %v%%, want ≥ zero-shot %v%% + 2", m, a[0], z[0])
			}
			if a, z := acc["same domain/"+m], acc["same domain/zero-shot"]; a[0] < z[0] {
				t.Errorf("same domain: %s base %v%% below zero-shot %v%%", m, a[0], z[0])
			}
		}
		// CoOp gains on the base classes and loses on the new ones (by 2.0
		// points with graft's GEMM, 0.7 with OpenBLAS's bits).
		if co, z := acc["same domain/CoOp"], acc["same domain/zero-shot"]; co[1] >= z[1] {
			t.Errorf("same domain: CoOp new %v%%, want below zero-shot's %v%% (its overfitting to the base classes)", co[1], z[1])
		}
		wantAll(t, text, "frozen CLIP unchanged: true", "base-to-new accuracy % (16 shots per base class)",
			"<48 images of 3x16x16 in 8 rows", "caption: <bos>", "pre-training: 400 steps", "[png ")
	},
	"kernel-tour.ipynb": func(t *testing.T, text string) {
		wantAll(t, text,
			`"hello hello hello "`, `"HELLO!"`,
			"3 points, total length 28.0, longest 13",
			"<progress value=5 max=5></progress> step 5 of 5", // the live output ends on its last update
			"no input here:", `"hello, researcher"`,
			"interrupted: false", "true",
			"graft.echo",
			"greeting", // %who lists the cells' variables
			"2000000", "Wall time:",
		)
	},
}

func wantAll(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("outputs lack %q", w)
		}
	}
}

// notebooks lists the tutorials in this directory.
func notebooks(t *testing.T) []string {
	paths, err := filepath.Glob("*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks found (%v)", err)
	}
	for _, p := range paths {
		if checks[p] == nil {
			t.Errorf("%s has no entry in checks: say what it must show", p)
		}
	}
	return paths
}

// outputText joins the text of every output of nb — streams, the plain text
// and HTML of results and displays — and fails the test on an error output.
func outputText(t *testing.T, nb *notebook.Notebook) string {
	t.Helper()
	var b strings.Builder
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			switch o.Type {
			case notebook.ErrorOutput:
				t.Errorf("cell %d failed: %s: %s\n%s", i, o.EName, o.EValue, notebook.StripANSI(strings.Join(o.Traceback, "\n")))
			case notebook.StreamOutput:
				b.WriteString(o.Text)
			default:
				for _, mime := range []string{"text/plain", "text/html", "text/markdown"} {
					if s, ok := o.Data[mime].(string); ok {
						b.WriteString(s + "\n")
					}
				}
				b.WriteString(imageText(t, i, o.Data))
			}
		}
	}
	return b.String()
}

// imageText describes the images of an output as "[png WxH]" and "[svg]"
// lines, failing the test on a PNG that does not decode or is blank (one
// colour) and on SVG that is not well-formed XML.
func imageText(t *testing.T, cell int, data map[string]any) string {
	t.Helper()
	var b strings.Builder
	if enc, ok := data["image/png"].(string); ok {
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(enc), ""))
		if err != nil {
			t.Errorf("cell %d: image/png is not base64: %v", cell, err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Errorf("cell %d: image/png does not decode: %v", cell, err)
		} else {
			bounds := img.Bounds()
			first, blank := img.At(bounds.Min.X, bounds.Min.Y), true
			for y := bounds.Min.Y; y < bounds.Max.Y && blank; y += 3 {
				for x := bounds.Min.X; x < bounds.Max.X && blank; x += 3 {
					blank = img.At(x, y) == first
				}
			}
			if blank {
				t.Errorf("cell %d: image/png is blank", cell)
			}
			fmt.Fprintf(&b, "[png %dx%d]\n", bounds.Dx(), bounds.Dy())
		}
	}
	if fig, ok := data[viz.MIMEFigure]; ok {
		b.WriteString(interactiveText(t, cell, fig))
	}
	if svg, ok := data["image/svg+xml"].(string); ok {
		dec := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("cell %d: image/svg+xml is not well-formed: %v", cell, err)
				break
			}
		}
		b.WriteString("[svg]\n")
	}
	return b.String()
}

// interactiveText describes the figure JSON for graft's notebook extension
// as "[interactive KIND, N points]" (points of a scatter, points of all
// series, cells, or panels of a dashboard or grid), failing the test on
// JSON that is not an object of the current version with a kind.
func interactiveText(t *testing.T, cell int, fig any) string {
	t.Helper()
	m, ok := fig.(map[string]any)
	if !ok {
		t.Errorf("cell %d: %s is %T, want a JSON object", cell, viz.MIMEFigure, fig)
		return ""
	}
	kind, _ := m["kind"].(string)
	if fmt.Sprint(m["version"]) != strconv.Itoa(viz.FigureJSONVersion) || kind == "" {
		t.Errorf("cell %d: figure JSON of version %v and kind %q", cell, m["version"], kind)
	}
	count := 0
	switch kind {
	case "scatter":
		p, _ := m["points"].(map[string]any)
		xs, _ := p["x"].([]any)
		count = len(xs)
	case "lines":
		series, _ := m["series"].([]any)
		for _, s := range series {
			ys, _ := s.(map[string]any)["y"].([]any)
			count += len(ys)
		}
	case "heatmap":
		c, _ := m["cells"].(map[string]any)
		vs, _ := c["values"].([]any)
		count = len(vs)
	default:
		panels, _ := m["panels"].([]any)
		count = len(panels)
	}
	return fmt.Sprintf("[interactive %s, %d]\n", kind, count)
}

// TestNotebooks executes every tutorial as `graft run` does — in-process,
// through the same interpreter the kernel uses — and checks what it promises.
func TestNotebooks(t *testing.T) {
	for _, path := range notebooks(t) {
		t.Run(strings.TrimSuffix(path, ".ipynb"), func(t *testing.T) {
			nb, err := notebook.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lang, err := golang.New(golang.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := notebook.Run(context.Background(), nb, lang, notebook.RunOptions{Timeout: cellTimeout}); err != nil {
				t.Error(err)
			}
			text := outputText(t, nb)
			t.Log("\n" + text)
			checks[path](t, text)
		})
	}
}

// nbclientScript executes a notebook through the installed kernelspec graft,
// as `jupyter nbconvert --execute` does, and writes the result.
const nbclientScript = `
import sys, nbformat, nbclient
nb = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(nb, kernel_name="graft", allow_errors=True, timeout=300).execute()
nbformat.write(nb, sys.argv[2])
`

// TestNotebooksThroughJupyter executes every tutorial with nbclient through
// the graft kernel as Jupyter starts it, and checks the same figures.
func TestNotebooksThroughJupyter(t *testing.T) {
	python := testenv.RequirePython(t, "nbclient", "nbformat", "jupyter_client")
	jupyter := kerneltest.NewJupyter(t, kerneltest.Binary(t))
	for _, path := range notebooks(t) {
		t.Run(strings.TrimSuffix(path, ".ipynb"), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), path)
			cmd := exec.Command(python, "-c", nbclientScript, path, out)
			cmd.Env = jupyter.Env()
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("nbclient: %v\n%s", err, msg)
			}
			nb, err := notebook.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			checks[path](t, outputText(t, nb))
		})
	}
}

// atoi parses a whole number the notebook printed.
func atoi(t *testing.T, s string) int {
	t.Helper()
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("the notebook printed %q where a whole number belongs", s)
	}
	return v
}
