package golang

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestParseMemorySize(t *testing.T) {
	const total = 16 << 30
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"12GiB", 12 << 30}, {"800MiB", 800 << 20}, {"16G", 16 << 30}, {"512k", 512 << 10},
		{"1.5GB", 1_500_000_000}, {"2e9", 2_000_000_000}, {"4096", 4096}, {"100 B", 100},
		{" 2 TiB ", 2 << 40}, {"50%", 8 << 30}, {"off", 0}, {"OFF", 0}, {"0", 0},
	} {
		got, err := parseMemorySize(c.in, total)
		if err != nil || got != c.want {
			t.Errorf("parseMemorySize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "lots", "-1GiB", "12XB", "0%", "150%", "%", "GiB", "1e30TiB", "NaN"} {
		if n, err := parseMemorySize(bad, total); err == nil {
			t.Errorf("parseMemorySize(%q) = %d, want an error", bad, n)
		} else if !strings.Contains(err.Error(), "memory size") {
			t.Errorf("parseMemorySize(%q): error %q does not say what it read", bad, err)
		}
	}
	if _, err := parseMemorySize("90%", 0); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("a percentage without the machine's memory: error %v", err)
	}
}

func TestStartingMemoryLimit(t *testing.T) {
	const total = 10 << 30
	if n, err := startingMemoryLimit("", total); err != nil || n != 8<<30 {
		t.Errorf("default: %d, %v; want 80%% of the machine", n, err)
	}
	if n, err := startingMemoryLimit("6GiB", total); err != nil || n != 6<<30 {
		t.Errorf("6GiB: %d, %v", n, err)
	}
	n, err := startingMemoryLimit("six gigs", total)
	if n != 8<<30 || err == nil || !strings.Contains(err.Error(), MemoryLimitEnv) || !strings.Contains(err.Error(), "using 8.0 GiB") {
		t.Errorf("a malformed variable: %d, %v; want the default and an error naming the variable", n, err)
	}
	if total := totalMemory(); runtime.GOOS == "linux" && total < 64<<20 {
		t.Errorf("totalMemory() = %d on Linux, want the machine's memory", total)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[uint64]string{512: "512 B", 1536: "1.5 KiB", 3 << 30: "3.0 GiB", 10<<30 + 1<<29: "10.5 GiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// withMemoryLimit sets the guard's limit for one test.
func withMemoryLimit(t *testing.T, n uint64) {
	prev := memoryLimit.Load()
	setMemoryLimit(n)
	t.Cleanup(func() { setMemoryLimit(prev) })
}

// A cell that appends without end is stopped once it grows the heap past
// the limit; its allocations are freed and the next cell runs.
func TestRunawayAllocationStopsTheCell(t *testing.T) {
	in := newInterp(t)
	runtime.GC()
	start := heapBytes()
	withMemoryLimit(t, start+300<<20)
	_, res := exec(t, in, 1, `func hoard() int {
	var keep [][]byte
	for {
		keep = append(keep, make([]byte, 1<<20))
	}
	return len(keep)
}
hoard()`)
	if res.Error == nil || res.Error.Name != ErrMemory {
		t.Fatalf("error %+v, want %s", res.Error, ErrMemory)
	}
	for _, want := range []string{"past graft's memory limit of", "%memory", MemoryLimitEnv, "the cell was stopped"} {
		if !strings.Contains(res.Error.Value, want) {
			t.Errorf("error %q lacks %q", res.Error.Value, want)
		}
	}
	if !strings.Contains(strings.Join(res.Error.Traceback, "\n"), "cell line 8") {
		t.Errorf("traceback %q does not point at the call of hoard", res.Error.Traceback)
	}
	runtime.GC()
	if h := heapBytes(); h > start+100<<20 {
		t.Errorf("after the stop the heap is %s, %s above where it started: the cell's allocations were kept", formatBytes(h), formatBytes(h-start))
	}
	o := mustExec(t, in, 2, "x := make([]float32, 1000)\nlen(x)")
	if got := o.results(); !reflect.DeepEqual(got, []string{"1000"}) {
		t.Errorf("after the stop: %q", got)
	}
}

// A kernel that already holds more than the limit still runs cells that
// allocate little: only a cell that grows the heap is stopped.
func TestMemoryLimitSparesCellsThatDoNotGrowTheHeap(t *testing.T) {
	in := newInterp(t)
	mustExec(t, in, 1, "kept := make([]byte, 200<<20)\nkept[0] = 1")
	runtime.GC()
	withMemoryLimit(t, heapBytes()/2)
	o := mustExec(t, in, 2, "s := 0\nfor i := range 2000000 { s += i % 7 }\nfmt.Sprint(s, len(kept))")
	if got := o.results(); len(got) != 1 || !strings.Contains(got[0], "209715200") {
		t.Errorf("results %q", got)
	}
}

func TestMemoryMagic(t *testing.T) {
	in := newInterp(t)
	withMemoryLimit(t, memoryLimit.Load())
	o := mustExec(t, in, 1, "%memory 3GiB")
	if s := o.stdout(); !strings.Contains(s, "memory limit 3.0 GiB") || !strings.Contains(s, "heap ") {
		t.Errorf("%%memory 3GiB printed %q", s)
	}
	if memoryLimit.Load() != 3<<30 {
		t.Errorf("limit %d after %%memory 3GiB", memoryLimit.Load())
	}
	o = mustExec(t, in, 2, "%memory off")
	if s := o.stdout(); !strings.Contains(s, "memory limit off") {
		t.Errorf("%%memory off printed %q", s)
	}
	_, res := exec(t, in, 3, "%memory plenty")
	if res.Error == nil || res.Error.Name != ErrUsage || !strings.Contains(res.Error.Value, `"plenty"`) {
		t.Errorf("%%memory plenty: error %+v", res.Error)
	}
	o = mustExec(t, in, 4, "%help")
	if !strings.Contains(o.stdout(), "%memory SIZE") {
		t.Errorf("%%help does not list %%memory: %q", o.stdout())
	}
}
