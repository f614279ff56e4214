package golang

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The memory guard stops a cell whose allocations run away (a loop that
// appends without end, an accidentally quadratic buffer) before the machine
// runs out of memory and the operating system kills the kernel with
// everything the notebook trained. A cell is stopped when the Go heap
// passes the limit and the cell itself grew it by at least
// memoryGrowthSlack; what it allocated is then freed, unless a variable
// still holds it. The guard samples the heap every 10 ms, so it catches
// growth, not one allocation larger than the machine (which Go's runtime
// reports as a fatal error before any check can run).

// MemoryLimitEnv names the environment variable that sets the memory limit
// when the kernel starts: a size such as 12GiB, 800MiB, 16G or 2e9 bytes, a
// percentage of the machine's memory such as 90%, or off.
const MemoryLimitEnv = "GRAFT_MEMORY_LIMIT"

// defaultMemoryShare is the share of the machine's memory (or of the
// cgroup's limit, if lower) that the limit is by default.
const defaultMemoryShare = 0.8

// memoryGrowthSlack is how much a cell must have grown the heap to be
// stopped, so that a kernel already holding more than the limit (data that
// earlier cells keep) still runs cells that allocate little.
const memoryGrowthSlack = 64 << 20

// errMemory is the cause of a run stopped by the memory guard.
var errMemory = errors.New("memory limit")

// memoryLimit is the heap size in bytes past which a growing cell is
// stopped; 0 turns the guard off.
var memoryLimit atomic.Uint64

var initMemoryLimit sync.Once

// setupMemoryLimit sets the limit from MemoryLimitEnv, or to the default,
// once per process; a malformed variable is reported and the default used.
func setupMemoryLimit() error {
	var err error
	initMemoryLimit.Do(func() {
		var limit uint64
		limit, err = startingMemoryLimit(os.Getenv(MemoryLimitEnv), totalMemory())
		setMemoryLimit(limit)
	})
	return err
}

// startingMemoryLimit returns the limit that the variable's value env sets
// on a machine of total bytes: the default share of total when env is
// empty, and also, with an error saying so, when env is malformed.
func startingMemoryLimit(env string, total uint64) (uint64, error) {
	limit := uint64(defaultMemoryShare * float64(total))
	if env == "" {
		return limit, nil
	}
	n, err := parseMemorySize(env, total)
	if err != nil {
		return limit, fmt.Errorf("%s: %w; using %s", MemoryLimitEnv, err, formatBytes(limit))
	}
	return n, nil
}

// setMemoryLimit sets the guard's limit, and Go's soft memory limit to it
// (none for 0), so that the collector works harder as the heap nears the
// limit instead of letting garbage trip the guard.
func setMemoryLimit(n uint64) {
	memoryLimit.Store(n)
	if n == 0 || n > math.MaxInt64 {
		debug.SetMemoryLimit(math.MaxInt64)
		return
	}
	debug.SetMemoryLimit(int64(n))
}

// parseMemorySize reads a size: a number of bytes with an optional unit
// (KiB, MiB, GiB, TiB or K, M, G, T in powers of 1024; KB, MB, GB, TB in
// powers of 1000; B), a percentage of total, or "off" (0).
func parseMemorySize(s string, total uint64) (uint64, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "off") {
		return 0, nil
	}
	if p, ok := strings.CutSuffix(t, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f <= 0 || f > 100 {
			return 0, fmt.Errorf("memory size %q: a percentage must be a number in (0, 100]", s)
		}
		if total == 0 {
			return 0, fmt.Errorf("memory size %q: the machine's memory is unknown here, so give a size such as 8GiB", s)
		}
		return uint64(f / 100 * float64(total)), nil
	}
	units := []struct {
		suffix string
		scale  float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	num, scale := t, 1.0
	for _, u := range units {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			num, scale = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.scale
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f*scale >= 1<<63 {
		return 0, fmt.Errorf("memory size %q: want a size such as 12GiB, 800MiB or 2e9, a percentage such as 90%%, or off", s)
	}
	return uint64(f * scale), nil
}

// totalMemory returns the memory this process may use: the machine's
// (MemTotal of /proc/meminfo), or its cgroup's limit where that is lower;
// 0 where neither can be read.
func totalMemory() uint64 {
	var total uint64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					total = kb << 10
				}
				break
			}
		}
		f.Close()
	}
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n // "max" (no limit) does not parse
		}
	}
	return total
}

// heapBytes returns the bytes of heap objects, live or not yet swept.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// formatBytes writes n in the largest binary unit under it, e.g. 9.4 GiB.
func formatBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f, u := float64(n), 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", f, units[u])
}

// memoryReport describes the heap and the limit, for %memory.
func memoryReport() string {
	limit := memoryLimit.Load()
	l := "off"
	if limit > 0 {
		l = formatBytes(limit)
	}
	return fmt.Sprintf("heap %s, memory limit %s (cells that grow the heap past it are stopped; machine %s)",
		formatBytes(heapBytes()), l, formatBytes(totalMemory()))
}
