//go:build !linux

package filestore

// replaceExisting puts the file tmp in place of dst only if dst exists,
// and reports whether it did. Outside Linux it is replaceChecked: a
// check, then a rename.
func replaceExisting(tmp, dst string) (bool, error) { return replaceChecked(tmp, dst) }
