package cpu

import (
	"os"
	"strings"
	"testing"
)

// AVX2FMA agrees with the flags the Linux kernel reports for the CPU.
func TestAVX2FMAMatchesProcCPUInfo(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo to compare with")
	}
	var flags []string
	for _, line := range strings.Split(string(info), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			flags = strings.Fields(value)
			break
		}
	}
	if flags == nil {
		t.Skip("no flags line in /proc/cpuinfo")
	}
	has := map[string]bool{}
	for _, f := range flags {
		has[f] = true
	}
	if want := has["avx2"] && has["fma"]; AVX2FMA != want {
		t.Errorf("AVX2FMA = %v, /proc/cpuinfo says avx2 %v, fma %v", AVX2FMA, has["avx2"], has["fma"])
	}
}
