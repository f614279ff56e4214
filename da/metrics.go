package da

import (
	"fmt"
	"math"
	"sort"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz"
	"github.com/graftml/graft/viz/table"
)

// PADOptions are the settings of ProxyADistance.
type PADOptions struct {
	// HeldOut is the fraction of each domain's rows kept out of training
	// to measure the error on (0: 0.5).
	HeldOut float64
	// L2 is the ridge penalty of the linear classifier on standardised
	// features (0: 1e-3).
	L2 float64
	// Seed draws the split.
	Seed uint64
}

// ADistance is the result of ProxyADistance.
type ADistance struct {
	// PAD is the proxy A-distance 2(1 − 2ε): 0 when the domains cannot be
	// told apart, 2 when they are perfectly separable. It is slightly
	// negative when the classifier does worse than chance.
	PAD float64
	// Error is ε, the held-out error of the domain classifier.
	Error float64
	// Train and Test count the rows the classifier was trained and
	// measured on.
	Train, Test int
}

// String reads "proxy A-distance 1.62 (domain classifier error 0.095 on 200 held-out rows)".
func (a ADistance) String() string {
	return fmt.Sprintf("proxy A-distance %.3g (domain classifier error %.3g on %d held-out rows, trained on %d)",
		a.PAD, a.Error, a.Test, a.Train)
}

// ProxyADistance measures how well a linear classifier tells source
// features fs (Ns, D) from target features ft (Nt, D) (Ben-David et al.
// 2007; Ganin et al. 2016): a logistic regression is trained on part of
// each domain and its error ε on the held-out rest gives PAD = 2(1 − 2ε).
func ProxyADistance(fs, ft *tensor.Tensor, opt PADOptions) (ADistance, error) {
	const fn = "da.ProxyADistance"
	s, t, err := matrixPair(fn, fs, ft)
	if err != nil {
		return ADistance{}, err
	}
	if opt.HeldOut < 0 || opt.HeldOut >= 1 || math.IsNaN(opt.HeldOut) {
		return ADistance{}, fmt.Errorf("%s: HeldOut = %v, want a fraction in (0, 1)", fn, opt.HeldOut)
	}
	if opt.HeldOut == 0 {
		opt.HeldOut = 0.5
	}
	if opt.L2 < 0 || math.IsNaN(opt.L2) {
		return ADistance{}, fmt.Errorf("%s: L2 = %v, want ≥ 0", fn, opt.L2)
	}
	if opt.L2 == 0 {
		opt.L2 = 1e-3
	}
	rng := tensor.NewRNG(opt.Seed)
	split := func(r rowsF64, name string) (tr, te rowsF64, err error) {
		nt := int(math.Round(float64(r.n) * opt.HeldOut))
		if nt < 1 || r.n-nt < 1 {
			return tr, te, fmt.Errorf("%s: %s has %d rows, too few to hold out %v of them and train on the rest", fn, name, r.n, opt.HeldOut)
		}
		perm := rng.Perm(r.n)
		tr, te = rowsF64{d: r.d}, rowsF64{d: r.d}
		for k, i := range perm {
			if k < nt {
				te.v, te.n = append(te.v, r.row(i)...), te.n+1
			} else {
				tr.v, tr.n = append(tr.v, r.row(i)...), tr.n+1
			}
		}
		return tr, te, nil
	}
	sTr, sTe, err := split(s, "fs")
	if err != nil {
		return ADistance{}, err
	}
	tTr, tTe, err := split(t, "ft")
	if err != nil {
		return ADistance{}, err
	}
	y := make([]bool, sTr.n+tTr.n)
	for i := sTr.n; i < len(y); i++ {
		y[i] = true
	}
	m, err := fitLogistic(stack(sTr, tTr), y, opt.L2)
	if err != nil {
		return ADistance{}, fmt.Errorf("%s: %v", fn, err)
	}
	wrong := 0
	for i := range sTe.n {
		if m.logit(sTe.row(i)) > 0 {
			wrong++
		}
	}
	for i := range tTe.n {
		if m.logit(tTe.row(i)) <= 0 {
			wrong++
		}
	}
	test := sTe.n + tTe.n
	eps := float64(wrong) / float64(test)
	return ADistance{PAD: 2 * (1 - 2*eps), Error: eps, Train: len(y), Test: test}, nil
}

// CKA kernels.
const (
	// LinearKernel is the Gram matrix XXᵀ.
	LinearKernel = "linear"
	// RBFKernel is exp(−‖x_i − x_j‖²/(2σ²)) with σ² = Threshold² times the
	// median squared distance (Kornblith et al.'s choice).
	RBFKernel = "rbf"
)

// CKAOptions are the settings of CKA. The zero value is linear CKA with the
// biased HSIC estimator.
type CKAOptions struct {
	// Kernel is LinearKernel or RBFKernel ("": linear).
	Kernel string
	// Threshold scales the RBF bandwidth: σ = Threshold·√(median squared
	// distance), the median taken over all n² pairs as in Kornblith et
	// al.'s code (0: 1).
	Threshold float64
	// Debiased uses the unbiased HSIC estimator (Song et al. 2012) in
	// numerator and denominator, which removes CKA's upward bias when there
	// are few examples for the number of features. Needs at least 4 rows.
	Debiased bool
}

// CKA returns the centred kernel alignment (Kornblith et al. 2019) of two
// representations of the same n examples, x (n, p) and y (n, q):
// HSIC(K, L)/√(HSIC(K, K)·HSIC(L, L)) for Gram matrices K of x and L of y.
// It is 1 for representations equal up to an orthogonal transform and an
// isotropic scaling, and near 0 for unrelated ones.
func CKA(x, y *tensor.Tensor, opt CKAOptions) (float64, error) {
	const fn = "da.CKA"
	a, err := matrixOf(fn, "x", x)
	if err != nil {
		return 0, err
	}
	b, err := matrixOf(fn, "y", y)
	if err != nil {
		return 0, err
	}
	if a.n != b.n {
		return 0, fmt.Errorf("%s: x has %d rows and y %d, want one row per example in both", fn, a.n, b.n)
	}
	need := 2
	if opt.Debiased {
		need = 4
	}
	if a.n < need {
		return 0, fmt.Errorf("%s: %d examples, want at least %d", fn, a.n, need)
	}
	if opt.Threshold < 0 || math.IsNaN(opt.Threshold) {
		return 0, fmt.Errorf("%s: Threshold = %v, want > 0", fn, opt.Threshold)
	}
	if opt.Threshold == 0 {
		opt.Threshold = 1
	}
	var gram func(r rowsF64) []float64
	switch opt.Kernel {
	case "", LinearKernel:
		gram = linearGram
	case RBFKernel:
		gram = func(r rowsF64) []float64 { return rbfGram(r, opt.Threshold) }
	default:
		return 0, fmt.Errorf("%s: Kernel %q, want %q or %q", fn, opt.Kernel, LinearKernel, RBFKernel)
	}
	K, L := centreGram(gram(a), a.n, opt.Debiased), centreGram(gram(b), b.n, opt.Debiased)
	kl, kk, ll := dot(K, L), dot(K, K), dot(L, L)
	if !(kk > 0) || !(ll > 0) {
		return 0, fmt.Errorf("%s: a representation is constant over the examples (HSIC %v and %v), CKA is undefined", fn, kk, ll)
	}
	return kl / math.Sqrt(kk*ll), nil
}

// LinearCKA is CKA with the linear kernel and the biased estimator:
// ‖YᵀX‖²_F/(‖XᵀX‖_F·‖YᵀY‖_F) for column-centred X and Y.
func LinearCKA(x, y *tensor.Tensor) (float64, error) {
	return CKA(x, y, CKAOptions{})
}

func linearGram(r rowsF64) []float64 {
	g := make([]float64, r.n*r.n)
	for i := range r.n {
		for j := i; j < r.n; j++ {
			var s float64
			for k, v := range r.row(i) {
				s += v * r.v[j*r.d+k]
			}
			g[i*r.n+j], g[j*r.n+i] = s, s
		}
	}
	return g
}

func rbfGram(r rowsF64, threshold float64) []float64 {
	d2 := make([]float64, r.n*r.n)
	for i := range r.n {
		for j := i + 1; j < r.n; j++ {
			v := sqDist(r.row(i), r.row(j))
			d2[i*r.n+j], d2[j*r.n+i] = v, v
		}
	}
	sorted := append([]float64(nil), d2...)
	sort.Float64s(sorted)
	m := len(sorted)
	med := sorted[m/2]
	if m%2 == 0 {
		med = (sorted[m/2-1] + med) / 2
	}
	if !(med > 0) {
		med = 1
	}
	c := -1 / (2 * threshold * threshold * med)
	for i, v := range d2 {
		d2[i] = math.Exp(c * v)
	}
	return d2
}

// centreGram returns HKH (H = I − 11ᵀ/n), or for unbiased the U-centred
// matrix whose inner products are the unbiased HSIC up to a constant
// factor (Song et al. 2012; as Kornblith et al.'s code computes it).
func centreGram(g []float64, n int, unbiased bool) []float64 {
	g = append([]float64(nil), g...)
	rowMeans := make([]float64, n)
	if unbiased {
		for i := range n {
			g[i*n+i] = 0
		}
		var total float64
		for i := range n {
			for j := range n {
				rowMeans[i] += g[i*n+j]
			}
			rowMeans[i] /= float64(n - 2)
			total += rowMeans[i]
		}
		total /= float64(2 * (n - 1))
		for i := range n {
			rowMeans[i] -= total
		}
		for i := range n {
			for j := range n {
				g[i*n+j] -= rowMeans[i] + rowMeans[j]
			}
			g[i*n+i] = 0
		}
		return g
	}
	var total float64
	for i := range n {
		for j := range n {
			rowMeans[i] += g[i*n+j]
		}
		rowMeans[i] /= float64(n)
		total += rowMeans[i]
	}
	total /= float64(n)
	for i := range n {
		for j := range n {
			g[i*n+j] += total - rowMeans[i] - rowMeans[j]
		}
	}
	return g
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// DomainAccuracies collects accuracies per method and domain — the table a
// domain adaptation experiment reports — and shows itself with one row per
// method and one column per domain, in the order first added.
type DomainAccuracies struct {
	// Caption is shown above the table ("": none).
	Caption          string
	methods, domains []string
	cells            map[[2]string][2]int // correct, total
}

// NewDomainAccuracies returns an empty table.
func NewDomainAccuracies() *DomainAccuracies {
	return &DomainAccuracies{cells: map[[2]string][2]int{}}
}

// Add counts correct predictions out of total for method on domain, adding
// to what was counted before.
func (t *DomainAccuracies) Add(method, domain string, correct, total int) error {
	if total < 0 || correct < 0 || correct > total {
		return fmt.Errorf("da.DomainAccuracies.Add: %d correct out of %d", correct, total)
	}
	if t.cells == nil {
		t.cells = map[[2]string][2]int{}
	}
	key := [2]string{method, domain}
	c, seen := t.cells[key]
	if !seen {
		if !contains(t.methods, method) {
			t.methods = append(t.methods, method)
		}
		if !contains(t.domains, domain) {
			t.domains = append(t.domains, domain)
		}
	}
	t.cells[key] = [2]int{c[0] + correct, c[1] + total}
	return nil
}

// AddLogits counts the rows of logits (N, K) whose argmax equals the label
// (negative labels are skipped) for method on domain.
func (t *DomainAccuracies) AddLogits(method, domain string, logits *tensor.Tensor, labels []int) error {
	if logits == nil || logits.Dims() != 2 || logits.Dim(0) != len(labels) {
		return fmt.Errorf("da.DomainAccuracies.AddLogits: logits %s for %d labels, want (N, K) with N = %d", shapeOf(logits), len(labels), len(labels))
	}
	pred := logits.Argmax(1).Ints()
	correct, total := 0, 0
	for i, y := range labels {
		if y < 0 {
			continue
		}
		total++
		if pred[i] == y {
			correct++
		}
	}
	return t.Add(method, domain, correct, total)
}

// Accuracy returns the accuracy of method on domain, NaN if nothing was
// counted.
func (t *DomainAccuracies) Accuracy(method, domain string) float64 {
	c := t.cells[[2]string{method, domain}]
	if c[1] == 0 {
		return math.NaN()
	}
	return float64(c[0]) / float64(c[1])
}

// Table returns the accuracies as a viz/table Table.
func (t *DomainAccuracies) Table() *table.Table {
	tb := table.New(append([]string{"method"}, t.domains...)...)
	tb.Caption = t.Caption
	for _, m := range t.methods {
		row := []any{m}
		for _, d := range t.domains {
			if a := t.Accuracy(m, d); math.IsNaN(a) {
				row = append(row, "")
			} else {
				row = append(row, a)
			}
		}
		_ = tb.AddRow(row...)
	}
	return tb
}

// String returns the table as aligned text.
func (t *DomainAccuracies) String() string { return t.Table().String() }

// Display shows the table.
func (t *DomainAccuracies) Display() display.Bundle { return t.Table().Display() }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// CalibrationOptions are the settings of CalibrationError.
type CalibrationOptions struct {
	// Bins is the number of equal-width confidence bins on [0, 1] (0: 15).
	Bins int
	// Probabilities says the scores are already class probabilities; by
	// default they are logits and go through a softmax.
	Probabilities bool
}

// CalibrationBin is one confidence bin (Lo, Hi] of a Calibration.
type CalibrationBin struct {
	Lo, Hi     float64
	Count      int
	Confidence float64 // mean top-class probability in the bin
	Accuracy   float64 // fraction of the bin's predictions that are right
}

// Calibration is the calibration of a classifier's confidences: the
// expected calibration error, the maximum one, and the bins behind them.
// It shows itself as a reliability diagram.
type Calibration struct {
	// ECE is Σ_b |B_b|/N · |acc(b) − conf(b)| (Guo et al. 2017).
	ECE float64
	// MCE is the largest |acc(b) − conf(b)| over non-empty bins.
	MCE float64
	// N is the number of predictions.
	N    int
	Bins []CalibrationBin
}

// CalibrationError bins the top-class confidences of scores (N, K) —
// logits, or probabilities with opt.Probabilities — into equal-width bins
// and compares each bin's mean confidence with its accuracy on labels.
func CalibrationError(scores *tensor.Tensor, labels []int, opt CalibrationOptions) (*Calibration, error) {
	const fn = "da.CalibrationError"
	if scores == nil || scores.Dims() != 2 || scores.Dim(1) == 0 {
		return nil, fmt.Errorf("%s: scores must be an (N, K) matrix", fn)
	}
	n, k := scores.Dim(0), scores.Dim(1)
	if n == 0 {
		return nil, fmt.Errorf("%s: no predictions (0 rows)", fn)
	}
	if len(labels) != n {
		return nil, fmt.Errorf("%s: %d labels for %d rows of scores", fn, len(labels), n)
	}
	if opt.Bins < 0 {
		return nil, fmt.Errorf("%s: Bins = %d, want > 0", fn, opt.Bins)
	}
	if opt.Bins == 0 {
		opt.Bins = 15
	}
	p := scores
	if !opt.Probabilities {
		p = scores.Detach().Softmax(1)
	}
	v := p.Float64s()
	c := &Calibration{N: n, Bins: make([]CalibrationBin, opt.Bins)}
	for b := range c.Bins {
		c.Bins[b].Lo, c.Bins[b].Hi = float64(b)/float64(opt.Bins), float64(b+1)/float64(opt.Bins)
	}
	for i := range n {
		row := v[i*k : (i+1)*k]
		best := 0
		for j, x := range row {
			if math.IsNaN(x) {
				return nil, fmt.Errorf("%s: scores[%d,%d] is NaN", fn, i, j)
			}
			if x > row[best] {
				best = j
			}
		}
		if labels[i] < 0 || labels[i] >= k {
			return nil, fmt.Errorf("%s: labels[%d] = %d, want a class in [0, %d)", fn, i, labels[i], k)
		}
		conf := row[best]
		if opt.Probabilities && (conf < 0 || conf > 1+1e-6) {
			return nil, fmt.Errorf("%s: scores[%d,%d] = %v is not a probability", fn, i, best, conf)
		}
		b := int(math.Ceil(conf*float64(opt.Bins))) - 1 // bins are (lo, hi]
		b = max(0, min(opt.Bins-1, b))
		bin := &c.Bins[b]
		bin.Count++
		bin.Confidence += conf
		if best == labels[i] {
			bin.Accuracy++
		}
	}
	for b := range c.Bins {
		bin := &c.Bins[b]
		if bin.Count == 0 {
			continue
		}
		bin.Confidence /= float64(bin.Count)
		bin.Accuracy /= float64(bin.Count)
		gap := math.Abs(bin.Accuracy - bin.Confidence)
		c.ECE += float64(bin.Count) / float64(n) * gap
		c.MCE = math.Max(c.MCE, gap)
	}
	return c, nil
}

// String reads "ECE 0.042, MCE 0.11 over 1000 predictions in 15 bins".
func (c *Calibration) String() string {
	return fmt.Sprintf("ECE %.3g, MCE %.3g over %d predictions in %d bins", c.ECE, c.MCE, c.N, len(c.Bins))
}

// Plot draws the reliability diagram: each non-empty bin's accuracy
// against its mean confidence, with the diagonal of perfect calibration.
func (c *Calibration) Plot() (*viz.Figure, error) {
	var x, y []float64
	for _, b := range c.Bins {
		if b.Count > 0 {
			x, y = append(x, b.Confidence), append(y, b.Accuracy)
		}
	}
	return viz.Lines([]viz.Series{
		{Name: "perfect calibration", X: []float64{0, 1}, Y: []float64{0, 1}, Dashed: true},
		{Name: "model", X: x, Y: y, Points: true},
	}, viz.LineOptions{Options: viz.Options{Title: fmt.Sprintf("Reliability diagram (ECE %.3g)", c.ECE),
		XLabel: "confidence", YLabel: "accuracy", XMin: 0, XMax: 1, YMin: 0, YMax: 1, Legend: "top-left"}})
}

// Display shows the reliability diagram with the summary as its text.
func (c *Calibration) Display() display.Bundle {
	fig, err := c.Plot()
	return viz.FigureBundle(c.String(), fig, err)
}
