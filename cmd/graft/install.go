package main

import "errors"

// runInstall is a placeholder until the install subcommand lands (issue 3).
func runInstall(args []string) error { return errors.New("not built yet") }
