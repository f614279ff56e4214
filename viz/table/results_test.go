package table

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

// sample has lora acc {0.9, 0.8, 0.85}, full acc {0.7, 0.75}, lora loss
// {0.3, NaN}, full loss {0.2, 0.25}, loss lower-is-better.
func sample() *Results {
	r := NewResults()
	r.LowerIsBetter("loss")
	for _, v := range []float64{0.9, 0.8, 0.85} {
		r.Add("lora", "acc", v)
	}
	r.Add("lora", "loss", 0.3)
	r.Add("lora", "loss", math.NaN())
	r.Add("full", "acc", 0.7)
	r.Add("full", "acc", 0.75)
	r.Add("full", "loss", 0.2)
	r.Add("full", "loss", 0.25)
	return r
}

func TestResultsMeanAndSampleStd(t *testing.T) {
	r := sample()
	cases := []struct {
		method, metric string
		mean, std      float64
		n              int
	}{
		// deviations ±0.05, 0: sum of squares 0.005, / (3-1), sqrt → 0.05
		{"lora", "acc", 0.85, 0.05, 3},
		// deviations ±0.025: 0.00125 / 1, sqrt → 0.0353553…
		{"full", "acc", 0.725, math.Sqrt(0.00125), 2},
		{"full", "loss", 0.225, math.Sqrt(0.00125), 2},
	}
	for _, c := range cases {
		mean, std, n := r.Mean(c.method, c.metric)
		if !near(mean, c.mean) || !near(std, c.std) || n != c.n {
			t.Errorf("%s/%s: mean %v std %v n %d, want %v %v %d", c.method, c.metric, mean, std, n, c.mean, c.std, c.n)
		}
	}
	if mean, std, n := r.Mean("lora", "loss"); mean != 0.3 || !math.IsNaN(std) || n != 1 {
		t.Errorf("one run: %v %v %d, want 0.3 NaN 1", mean, std, n)
	}
	if mean, std, n := r.Mean("nobody", "acc"); !math.IsNaN(mean) || !math.IsNaN(std) || n != 0 {
		t.Errorf("no runs: %v %v %d", mean, std, n)
	}
	if got := r.Values("lora", "loss"); !slices.Equal(got, []float64{0.3}) {
		t.Errorf("values %v", got)
	}
	if !slices.Equal(r.Methods(), []string{"lora", "full"}) || !slices.Equal(r.Metrics(), []string{"acc", "loss"}) {
		t.Errorf("order %v %v", r.Methods(), r.Metrics())
	}
}

func TestResultsTextAndHTML(t *testing.T) {
	r := sample()
	want := strings.Join([]string{
		"1 non-finite value skipped",
		"method            acc ↑             loss ↓    runs",
		"------  -----------------  -----------------  ----",
		"lora        0.85 ± 0.05 *        0.3 (n=1)       3",
		"full    0.725 ± 0.03536    0.225 ± 0.03536 *     2",
	}, "\n")
	if got := r.String(); got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
	wantHTML := `<table style="font-variant-numeric:tabular-nums">
<caption style="text-align:left;white-space:nowrap">1 non-finite value skipped</caption>
<thead><tr><th style="text-align:left">method</th><th style="text-align:right">acc ↑</th><th style="text-align:right">loss ↓</th><th style="text-align:right">runs</th></tr></thead>
<tbody>
<tr><td style="text-align:left">lora</td><td style="text-align:right"><strong>0.85 ± 0.05</strong></td><td style="text-align:right">0.3 (n=1)</td><td style="text-align:right">3</td></tr>
<tr><td style="text-align:left">full</td><td style="text-align:right">0.725 ± 0.03536</td><td style="text-align:right"><strong>0.225 ± 0.03536</strong></td><td style="text-align:right">2</td></tr>
</tbody>
</table>`
	if got := r.Display().Data["text/html"]; got != wantHTML {
		t.Errorf("html:\n%s\nwant:\n%s", got, wantHTML)
	}
}

func TestResultsBest(t *testing.T) {
	r := sample()
	if got := r.Best("acc"); !slices.Equal(got, []string{"lora"}) {
		t.Errorf("best acc %v", got)
	}
	if got := r.Best("loss"); !slices.Equal(got, []string{"full"}) {
		t.Errorf("best loss (lower is better) %v", got)
	}
	// Without LowerIsBetter the higher loss wins.
	r2 := NewResults()
	r2.Add("a", "loss", 0.3)
	r2.Add("b", "loss", 0.2)
	if got := r2.Best("loss"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("higher is better by default: %v", got)
	}
	// Ties are all best; a single method is not marked.
	r2.Add("c", "loss", 0.3)
	if got := r2.Best("loss"); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("tie %v", got)
	}
	r3 := NewResults()
	r3.Add("only", "acc", 1)
	if got := r3.Best("acc"); got != nil {
		t.Errorf("one method: %v", got)
	}
	if strings.Contains(r3.String(), "*") {
		t.Errorf("one method marked best:\n%s", r3.String())
	}
}

func TestResultsNonFinite(t *testing.T) {
	var r Results // the zero value works too
	r.Caption = "dann vs source-only"
	r.Add("dann", "acc", math.Inf(1))
	r.Add("dann", "acc", math.NaN())
	r.Add("src", "acc", 0.5)
	r.Add("src", "acc", math.Inf(-1))
	if r.Skipped() != 3 {
		t.Errorf("skipped %d, want 3", r.Skipped())
	}
	want := strings.Join([]string{
		"dann vs source-only; 3 non-finite values skipped",
		"method  acc ↑  runs",
		"------  -----  ----",
		"dann        —     0",
		"src       0.5     1",
	}, "\n")
	if got := r.String(); got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
}

func TestResultsAddRun(t *testing.T) {
	r := NewResults()
	r.LowerIsBetter("loss")
	r.AddRun("lora", map[string]float64{"loss": 0.5, "acc": 0.8, "f1": 0.7})
	r.AddRun("lora", map[string]float64{"loss": 0.3, "acc": 0.9, "f1": 0.6})
	r.AddRun("ia3", map[string]float64{"acc": 0.6, "zeta": 1})
	if !slices.Equal(r.Metrics(), []string{"acc", "f1", "loss", "zeta"}) {
		t.Errorf("metrics %v", r.Metrics())
	}
	if mean, std, n := r.Mean("lora", "loss"); !near(mean, 0.4) || !near(std, math.Sqrt(0.02)) || n != 2 {
		t.Errorf("loss %v %v %d", mean, std, n)
	}
	// Only acc has two methods to compare, so only lora's acc is marked; ia3
	// has one run of everything it reports, so no cell needs "(n=…)".
	sp := func(n int) string { return strings.Repeat(" ", n) }
	want := strings.Join([]string{
		"method" + sp(11) + "acc ↑" + sp(14) + "f1 ↑" + sp(8) + "loss ↓" + sp(2) + "zeta ↑" + sp(2) + "runs",
		"------  ----------------  --------------  ------------  ------  ----",
		"lora" + sp(4) + "0.85 ± 0.07071 *" + sp(2) + "0.65 ± 0.07071" + sp(2) + "0.4 ± 0.1414" + sp(7) + "—" + sp(5) + "2",
		"ia3" + sp(16) + "0.6" + sp(17) + "—" + sp(13) + "—" + sp(7) + "1" + sp(5) + "1",
	}, "\n")
	if got := r.String(); got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
}
