//go:build linux

package filestore

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// replaceExisting puts the file tmp in place of dst only if dst exists,
// and reports whether it did. On Linux it is one atomic step: renameat2
// with RENAME_EXCHANGE swaps the two names, or fails with ENOENT when dst
// is gone (deleted by another request or process), so a record deleted
// meanwhile is never written back. tmp then names the old record and is
// removed. A file system without RENAME_EXCHANGE gets replaceChecked.
func replaceExisting(tmp, dst string) (bool, error) {
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dst, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		// The old record: a failure leaves it to the sweeper (an old
		// temporary file).
		_ = os.Remove(tmp)
		return true, nil
	case errors.Is(err, unix.ENOENT):
		return false, nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		return replaceChecked(tmp, dst)
	}
	return false, &os.LinkError{Op: "renameat2", Old: tmp, New: dst, Err: err}
}
