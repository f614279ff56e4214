// The test notebook: nbformat 4 JSON for the graft kernel with one cell per
// figure the browser checks look at. Each figure cell is tagged with its role
// in the cell metadata (graft_e2e), so the checks find a cell by what it
// shows rather than by its position.

import fs from 'node:fs';

/** Number of points in the hover scatter, and the names its tooltip shows. */
export const HOVER_POINTS = 2000;
export const CLASS_NAMES = ['cat', 'dog', 'bird'];
export const DOMAIN_NAMES = ['source', 'target'];
/** Points in the scatter the hover frame time is measured over. */
export const BIG_POINTS = 100000;
/** Final length of the live curve, and the steps it grows in. */
export const LIVE_POINTS = 10000;
export const LIVE_STEPS = 60;

/**
 * The figure cells, in notebook order. role names the cell for the checks;
 * source is Go for the graft kernel, whose last expression (a *viz.Figure)
 * is displayed. The live figure runs before the 100,000-point scatter, whose
 * 17 MB output message keeps the page busy for a second or two, so that
 * its update latencies are measured on a page that is not.
 */
export const CELLS = [
  {
    role: 'lines',
    source: `// A small line plot.
xs := make([]float64, 50)
ys := make([]float64, 50)
for i := range xs {
	xs[i] = float64(i)
	ys[i] = math.Sin(float64(i) / 5)
}
small, err := viz.Lines([]viz.Series{{Name: "sin", X: xs, Y: ys}}, viz.LineOptions{})
if err != nil {
	panic(err)
}
small`,
  },
  {
    role: 'hover',
    source: `// ${HOVER_POINTS} points in ${CLASS_NAMES.length} classes and ${DOMAIN_NAMES.length} domains, to hover.
hoverLabels := make([]int, ${HOVER_POINTS})
hoverDomains := make([]int, ${HOVER_POINTS})
for i := range hoverLabels {
	hoverLabels[i] = i % ${CLASS_NAMES.length}
	hoverDomains[i] = (i / ${CLASS_NAMES.length}) % ${DOMAIN_NAMES.length}
}
hoverFig, err := viz.Scatter(tensor.Randn(tensor.NewRNG(1), ${HOVER_POINTS}, 2), viz.ScatterOptions{
	Labels: hoverLabels, Domains: hoverDomains,
	ClassNames:  []string{${CLASS_NAMES.map((s) => JSON.stringify(s)).join(', ')}},
	DomainNames: []string{${DOMAIN_NAMES.map((s) => JSON.stringify(s)).join(', ')}},
})
if err != nil {
	panic(err)
}
hoverFig`,
  },
  {
    role: 'live',
    source: `// A live figure: a curve growing to ${LIVE_POINTS} points in ${LIVE_STEPS} steps, redrawn in place.
live := viz.NewLive()
live.MinInterval = 120 * time.Millisecond
live.Budget = 1
curve := make([]float64, 0, ${LIVE_POINTS})
for step := 1; step <= ${LIVE_STEPS}; step++ {
	for len(curve) < step*${LIVE_POINTS}/${LIVE_STEPS} {
		k := float64(len(curve))
		curve = append(curve, math.Exp(-k/3000)+0.05*math.Sin(k/40))
	}
	if live.Due() {
		live.Show(viz.Lines([]viz.Series{{Name: "loss", Y: curve}}, viz.LineOptions{}))
	}
	time.Sleep(100 * time.Millisecond)
}
live.Close(viz.Lines([]viz.Series{{Name: "loss", Y: curve}}, viz.LineOptions{}))
fmt.Println("live redraws:", live.Redraws())`,
  },
  {
    role: 'big',
    source: `// ${BIG_POINTS} points: the hover frame time is measured over this one.
bigLabels := make([]int, ${BIG_POINTS})
for i := range bigLabels {
	bigLabels[i] = i % 4
}
bigFig, err := viz.Scatter(tensor.Randn(tensor.NewRNG(2), ${BIG_POINTS}, 2), viz.ScatterOptions{Labels: bigLabels})
if err != nil {
	panic(err)
}
bigFig`,
  },
  {
    role: 'dashboard',
    source: `// A training dashboard from a Tracker.
tr := viz.NewTracker(viz.TrackerOptions{Total: 40, MinInterval: 100 * time.Millisecond})
for step := 1; step <= 40; step++ {
	s := float64(step)
	tr.Log(step, map[string]float64{"loss": 1 / s, "accuracy": 1 - 1/(s+1)})
	time.Sleep(20 * time.Millisecond)
}
tr.Done()`,
  },
];

/** Returns the test notebook as an nbformat 4 object. */
export function testNotebook() {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'graft', display_name: 'Go (graft)', language: 'go' },
      language_info: { name: 'go', file_extension: '.go', mimetype: 'text/x-go' },
    },
    cells: CELLS.map((c, i) => ({
      cell_type: 'code',
      id: `graft-e2e-${i}-${c.role}`,
      metadata: { graft_e2e: c.role },
      execution_count: null,
      outputs: [],
      source: c.source,
    })),
  };
}

/** Writes the test notebook to path. */
export function writeTestNotebook(path) {
  fs.writeFileSync(path, JSON.stringify(testNotebook(), null, 1) + '\n');
}

/** Index (in notebook order) of the cell with the given role. */
export function cellIndex(role) {
  const i = CELLS.findIndex((c) => c.role === role);
  if (i < 0) throw new Error(`no test cell with role ${role}`);
  return i;
}
