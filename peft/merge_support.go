package peft

// CheckSameBase reports an error when the named adapters' configurations
// name different base models (base_model_name_or_path; adapters that name
// none match any), as Merge does before folding adapters together. Package
// merge calls it before combining adapters.
func (m *Model) CheckSameBase(adapters []string) error { return m.sameBase(adapters) }
