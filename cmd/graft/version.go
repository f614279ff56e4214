package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is graft's release version; builds from a checkout report the
// module version or VCS revision as well.
const Version = "0.1.0"

func versionString() string {
	s := "graft " + Version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range info.Settings {
			if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
				s += " (" + kv.Value[:12] + ")"
			}
		}
	}
	return s + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func runVersion(args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("takes no arguments, got %q", args)
	}
	fmt.Println(versionString())
	return nil
}
