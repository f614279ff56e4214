//go:build !unix

package main

import "os"

// peakRSSMB returns 0: peak RSS is read from rusage, which only Unix systems have.
func peakRSSMB(*os.ProcessState) float64 { return 0 }
