package main

import "errors"

// runKernel is a placeholder until the kernel subcommand lands (issue 3).
func runKernel(args []string) error { return errors.New("not built yet") }
