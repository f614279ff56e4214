package main

import "errors"

// runNotebook is a placeholder until the run subcommand lands (issue 3).
func runNotebook(args []string) error { return errors.New("not built yet") }
