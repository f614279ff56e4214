package cell

// Prelude returns the source steps the interpreter evaluates once, in
// order, each with its own interp.Eval, before the first cell (and again
// after a reset).
func Prelude() []string {
	return nil
}

// PreludeNames are the top-level names the prelude defines; the
// interpreter adds them to Scope.Defined.
func PreludeNames() []string {
	return nil
}
