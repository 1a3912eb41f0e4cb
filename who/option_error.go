package who

// OptionError is what a Factory returns when one option is wrong, so the
// loader can point at that key's line: "secret: is required".
type OptionError struct {
	Key string // the option key, as in the configuration file
	Err error
}

func (e *OptionError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *OptionError) Unwrap() error { return e.Err }
